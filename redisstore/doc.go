// Package redisstore keeps seshat sessions in Redis, through go-redis v9's
// redis.UniversalClient: one node, Sentinel (redis.NewFailoverClient) and
// Redis Cluster (redis.NewClusterClient) all work.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	sm, err := seshat.New(seshat.Config{
//		Keys:  keys,
//		Store: redisstore.New(rdb, redisstore.Options{}),
//	})
//
// The store implements [seshat.Store], [seshat.Merger] (a request's changes
// are merged key by key in one atomic script, so concurrent requests on one
// session that change different keys all persist), [seshat.Toucher] (a
// sliding expiry costs one small command), [seshat.Taker] (one value taken
// out of a record in one atomic script, so a flashed message is shown once
// however many requests race for it), [seshat.UserIndex] ("log out
// everywhere" reads one index, never the whole keyspace) and
// [seshat.Iterator] (a full SCAN of the keyspace). It needs no
// [seshat.Cleaner]: Redis expires records by itself.
//
// # Key layout
//
// Every key starts with Options.Prefix (default "seshat:"):
//
//	<prefix>s:<key>               HASH, one session record
//	<prefix>u:{<user-hash>}       ZSET, the index of one user's sessions
//
// <key> is what seshat hands the store: by default the hex SHA-256 of the
// session id, so neither keys nor dumps reveal a usable id. A session hash
// holds:
//
//	v:<session key>   the value's Flask tagged JSON, one field per key
//	m:exp             the expiry, Unix milliseconds (decimal)
//	m:uid             the owner's user id (absent for anonymous sessions)
//
// The "v:" and "m:" prefixes keep session keys and metadata apart whatever
// the session keys are. The hash itself expires at m:exp (PEXPIREAT), and
// Load also compares m:exp with the store's clock, so a record past its
// expiry is never returned, even before Redis evicts it. A hash under the
// prefix without a readable m:exp, or with a field outside the two
// namespaces, is reported as [ErrCorrupt].
//
// <user-hash> is the hex of the first 16 bytes of the SHA-256 of the user
// id. The braces make it the Redis Cluster hash tag, so every command on one
// index stays in one slot. The index's members are session keys; each
// member's score is a horizon in Unix milliseconds that is at least the
// session's expiry: the end of the IndexGranularity period after the one
// the expiry falls in. The index key itself expires at its largest horizon,
// and every write to it drops the members whose horizon has passed, so an
// index never outlives its sessions by more than two granularities.
// Readers (ListByUser, RevokeUser) treat the index as a list of candidates:
// they check each record's owner and expiry, and prune members that no
// longer match.
//
// # Scripts
//
// Save, Merge, Touch, Take and Delete are each one Lua script, run with EVALSHA
// and, when the server's script cache is empty (after a restart), EVAL.
// Every key a script touches is in its KEYS.
//
//   - Merge: when the record is not live (missing, or m:exp not after now)
//     and Change.Create is false, it deletes an expired leftover, writes
//     nothing and reports the session gone ([seshat.ErrSessionGone]): a
//     request never resurrects a session that another request destroyed.
//     Otherwise it HSETs the changed keys, HDELs the deleted ones, sets
//     m:exp and, with Change.SetUser, m:uid, then PEXPIREATs the hash.
//   - Save: DEL, then HSET of the whole record and PEXPIREAT.
//   - Touch: on a live record only, sets m:exp and PEXPIREATs the hash;
//     else it reports no record.
//   - Take: on a live record only (an expired leftover is deleted), HGET
//     and HDEL of the value's field, returning the value; the expiry, the
//     owner and the other fields stay. One round trip, whatever the client:
//     the script touches the session hash alone, so it also runs on Cluster.
//   - Delete: DEL, returning the owner so the client can drop the key from
//     the owner's index.
//
// With a *redis.Client (one node or Sentinel), Save and a Merge that sets a
// non-empty owner also add the key to the owner's index inside the same
// script: one round trip, all or nothing. With any other client (Cluster,
// Ring) the index may be in another slot than the session, so the client
// registers the key in the index first and runs the session script second;
// if the second step fails, the index holds a harmless extra candidate.
// On every kind of client, a Touch or Merge whose new expiry crosses an
// IndexGranularity boundary for an owned session reports the owner, and the
// client then extends the index (one more command, at most once per session
// per granularity), and Delete or a change of owner drops the key from the
// previous owner's index in a second command (best effort).
//
// # Batching
//
// Most of what a Redis round trip costs is not in Redis: go-redis checks the
// connection's health with a peek, writes the command and parks on the
// read, and Redis reads and writes once per command too. The store
// therefore batches the commands of concurrent calls. Up to
// Options.MaxInFlight round trips (default [DefaultMaxInFlight]) go out at
// once, each call on its own exactly as without batching; a call that finds
// them all in flight queues its command, and the first round trip to finish
// sends everything queued by then as one pipeline. Under light load nothing
// waits; under heavy load one write and one read carry many requests'
// commands. On the benchmark's 2-core machine (docs/BENCHMARKS.md, two full
// runs) this raised /read from 0.38 to 0.49-0.54 and /write from 0.25 to
// 0.37-0.38 of the no-session baseline, with lower p50 and p99 latencies.
//
// Batching changes no result: each command is still one atomic step in
// Redis, and a call returns only after its own reply arrived, so calls made
// one after another by one goroutine keep their order. Each call still
// waits for exactly one round trip per command. A queued call whose context
// ends returns the context's error at once and its command is not sent; a
// command already in a pipeline may still run, as with any command whose
// caller gives up. A batch's pipeline runs under a context that carries no
// caller's cancellation, with the latest of the callers' deadlines; hooks
// can recognise it with [Batched]. A negative MaxInFlight turns batching
// off.
//
// # Concurrency and failures
//
// Merges of different keys on one session never lose updates. Two requests
// that set the same key: the one whose script Redis runs last wins. Every
// script is idempotent (absolute expiries, whole values), so go-redis's
// retry of a command whose reply was lost cannot apply a change twice.
//
// A failure to reach a working Redis — connection refused or reset,
// timeout, a closed client or pool, a server that is LOADING its data,
// CLUSTERDOWN, MASTERDOWN, READONLY — is returned wrapped so that
// errors.Is(err, seshat.ErrStoreUnavailable) holds, and the middleware
// answers 503. A missing record is [seshat.ErrNoRecord]. Errors name the
// operation and at most the first 8 characters of the key.
//
// How long a request waits for a slow or dead Redis is the client's
// business. Set ContextTimeoutEnabled in redis.Options (or
// redis.ClusterOptions) so that a request's context deadline bounds every
// store call, and keep DialTimeout, ReadTimeout and WriteTimeout short
// (go-redis defaults: 5 s to dial, 3 s to read or write, up to 3 retries).
// After an outage go-redis reconnects by itself on the next command; nothing
// in the store needs restarting.
package redisstore
