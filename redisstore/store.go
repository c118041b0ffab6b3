package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "seshat:"

// DefaultIndexGranularity is the default Options.IndexGranularity.
const DefaultIndexGranularity = time.Hour

// Hash fields of a session record. User values are stored under valuePrefix
// followed by the session key, so they never collide with the metadata.
const (
	valuePrefix = "v:"
	fieldExp    = "m:exp"
	fieldUID    = "m:uid"
	metaPrefix  = "m:"
)

// ErrCorrupt is returned (wrapped) by Load for a hash under the store's
// prefix that is not a well-formed session record: its expiry is missing or
// unreadable, or it holds fields the store never writes. It wraps
// [seshat.ErrCorruptRecord] (so the middleware starts a fresh session rather
// than answering 503), and neither [seshat.ErrNoRecord] nor
// [seshat.ErrStoreUnavailable].
var ErrCorrupt = fmt.Errorf("redisstore: %w", seshat.ErrCorruptRecord)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix starts every key the store reads or writes; default "seshat:".
	// Give every application (or every seshat.Manager with its own keys) its
	// own prefix, and keep other data out of it: the store treats anything
	// under Prefix as its own.
	Prefix string
	// IndexGranularity bounds how often a sliding expiry costs a second
	// command to extend the owner's index: a user index records, for each
	// session, a horizon at least one and at most two granularities past the
	// session's expiry, and is extended only when the expiry crosses a
	// multiple of the granularity. Default one hour; smaller values keep the
	// index tighter, larger ones save commands.
	IndexGranularity time.Duration
	// Now is the clock used to judge expiry; default time.Now. Tests set it.
	Now func() time.Time
	// MaxInFlight is how many of the store's round trips (Load, and every
	// script: Save, Merge, Touch, Take, Delete and the user index's
	// updates) may be in flight at once before the commands of further
	// concurrent calls are batched: queued and sent together, as one
	// pipeline, when a round trip finishes. Under light load every call
	// goes out alone at once; under heavy load one write and one read carry
	// many calls' commands, which saves most of the client's and Redis's
	// per-command cost. Default [DefaultMaxInFlight] (0); a negative value
	// turns batching off, and every call is its own command, as go-redis
	// sends it. Commands that other code sends through the same client are
	// not affected.
	MaxInFlight int
}

// Store is a seshat.Store on Redis. It also implements [seshat.Merger],
// [seshat.Toucher], [seshat.Taker], [seshat.UserIndex] and
// [seshat.Iterator]; it needs no
// [seshat.Cleaner] since Redis expires records by itself. A Store is safe
// for concurrent use.
type Store struct {
	c       redis.UniversalClient
	batch   *batcher // nil when Options.MaxInFlight < 0
	prefix  string
	gran    int64 // IndexGranularity in milliseconds
	now     func() time.Time
	cluster bool // keys of one script may not span slots
}

var (
	_ seshat.Store     = (*Store)(nil)
	_ seshat.Merger    = (*Store)(nil)
	_ seshat.Toucher   = (*Store)(nil)
	_ seshat.Taker     = (*Store)(nil)
	_ seshat.UserIndex = (*Store)(nil)
	_ seshat.Iterator  = (*Store)(nil)
)

// New returns a Store that keeps sessions in Redis through client: a
// *redis.Client (one node, or Sentinel through redis.NewFailoverClient), a
// *redis.ClusterClient or anything else that implements
// redis.UniversalClient. The caller keeps ownership of client: [Store.Close]
// does not close it.
//
// With a *redis.Client every write is one atomic script, user index
// included. With any other client (Redis Cluster, Ring, wrappers) the
// store assumes that a session and its owner's index may live on different
// nodes and updates the index in a separate command where needed; see the
// package documentation.
func New(client redis.UniversalClient, opts Options) *Store {
	s := &Store{c: client, prefix: opts.Prefix, now: opts.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	g := opts.IndexGranularity
	if g <= 0 {
		g = DefaultIndexGranularity
	}
	s.gran = max(g.Milliseconds(), 1)
	if s.now == nil {
		s.now = time.Now
	}
	_, single := client.(*redis.Client)
	s.cluster = !single
	if n := opts.MaxInFlight; n >= 0 {
		if n == 0 {
			n = DefaultMaxInFlight
		}
		s.batch = &batcher{c: client, limit: n}
	}
	return s
}

// process sends cmd, batched with other calls' commands when the store
// batches, and returns its error (or the context's, when the caller's
// context ends before the reply arrives).
func (s *Store) process(ctx context.Context, cmd redis.Cmder) error {
	if s.batch == nil {
		return s.c.Process(ctx, cmd)
	}
	return s.batch.do(ctx, cmd)
}

// runScript runs script with keys and args as EVALSHA, through process. When
// the server does not know the script (an empty script cache after a
// restart or SCRIPT FLUSH) it sends it whole with EVAL, as Script.Run does.
func (s *Store) runScript(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	argv := make([]any, 0, 3+len(keys)+len(args))
	argv = append(argv, "evalsha", script.Hash(), len(keys))
	for _, k := range keys {
		argv = append(argv, k)
	}
	argv = append(argv, args...)
	cmd := redis.NewCmd(ctx, argv...)
	err := s.process(ctx, cmd)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		return script.Eval(ctx, s.c, keys, args...)
	}
	if err != nil {
		// A fresh command carries the error: when the caller gave up
		// waiting, cmd may still be in a pipeline that will write its reply.
		failed := redis.NewCmd(ctx)
		failed.SetErr(err)
		return failed
	}
	return cmd
}

// Close does nothing: the store holds no resources of its own, and it never
// closes the client passed to [New].
func (s *Store) Close() error { return nil }

// sessionKey returns the Redis key of the record stored under key.
func (s *Store) sessionKey(key string) string { return s.prefix + "s:" + key }

// indexKey returns the Redis key of userID's index. The user id is hashed:
// any string is a safe key, and the braces make the hash the cluster hash
// tag, so every operation on one index stays in one slot.
func (s *Store) indexKey(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return s.prefix + "u:{" + hex.EncodeToString(sum[:16]) + "}"
}

// horizon returns the score a user index records for a session expiring at
// exp (ms): the end of the granule after exp's.
func (s *Store) horizon(exp int64) int64 {
	return (floorDiv(exp, s.gran) + 2) * s.gran
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// short names a store key in error messages without revealing it whole.
func short(key string) string {
	if len(key) > 8 {
		return key[:8] + "…"
	}
	return key
}

// unavailable reports whether err is a failure to reach a working Redis
// (network, timeout, closed client or pool, a server that is loading, down
// or read-only) rather than an answer from one.
func unavailable(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return true // no reply from a server: network, timeout, pool, closed client
	}
	for _, p := range [...]string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "NOREPLICAS", "max number of clients"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// fail wraps err from operation op on key ("" when the operation is not on
// one session).
func fail(op, key string, err error) error {
	if key != "" {
		op += " " + short(key)
	}
	if unavailable(err) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

func noRecord(op, key string) error {
	return fmt.Errorf("redisstore: %s %s: %w", op, short(key), seshat.ErrNoRecord)
}

func corrupt(key, why string) error {
	return fmt.Errorf("redisstore: load %s: %w: %s", short(key), ErrCorrupt, why)
}

// Load returns the record stored under key in one command (HGETALL). A
// missing record, or one whose stored expiry has passed by the store's clock
// even though Redis has not evicted it yet, is seshat.ErrNoRecord.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	cmd := redis.NewMapStringStringCmd(ctx, "hgetall", s.sessionKey(key))
	if err := s.process(ctx, cmd); err != nil {
		return nil, fail("load", key, err)
	}
	m := cmd.Val()
	if len(m) == 0 {
		return nil, noRecord("load", key)
	}
	rec, err := decode(key, m)
	if err != nil {
		return nil, err
	}
	if !rec.Expires.After(s.now()) {
		return nil, noRecord("load", key)
	}
	return rec, nil
}

func decode(key string, m map[string]string) (*seshat.Record, error) {
	raw, ok := m[fieldExp]
	if !ok {
		return nil, corrupt(key, "no expiry field")
	}
	exp, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, corrupt(key, "unreadable expiry")
	}
	rec := &seshat.Record{Values: make(map[string][]byte, len(m)-1), Expires: time.UnixMilli(exp), UserID: m[fieldUID]}
	for f, v := range m {
		switch {
		case strings.HasPrefix(f, valuePrefix):
			rec.Values[f[len(valuePrefix):]] = []byte(v)
		case strings.HasPrefix(f, metaPrefix):
			// metadata: m:exp and m:uid above; others are ignored so that a
			// later version may add some.
		default:
			return nil, corrupt(key, "unexpected field")
		}
	}
	return rec, nil
}

// Save writes rec under key in one atomic script, replacing whatever was
// there, and registers the key in the owner's index (in the same script on
// a single node; in a command before it on other clients). A record whose
// Expires has passed is removed instead. A zero Expires is an error: Redis
// keeps nothing forever for this store.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	if rec.Expires.IsZero() {
		return fmt.Errorf("redisstore: save %s: record has no expiry", short(key))
	}
	exp := rec.Expires.UnixMilli()
	now := s.now()
	hz := strconv.FormatInt(s.horizon(exp), 10)
	keys := []string{s.sessionKey(key)}
	if rec.UserID != "" {
		if s.cluster {
			if err := s.indexAdd(ctx, rec.UserID, key, hz, now); err != nil {
				return fail("save", key, err)
			}
		} else {
			keys = append(keys, s.indexKey(rec.UserID))
		}
	}
	args := make([]any, 0, 5+2*len(rec.Values))
	args = append(args, strconv.FormatInt(exp, 10), ms(now), rec.UserID, key, hz)
	for k, v := range rec.Values {
		args = append(args, valuePrefix+k, v)
	}
	res, err := s.runScript(ctx, saveScript, keys, args...).Slice()
	if err != nil {
		return fail("save", key, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redisstore: save %s: unexpected script reply", short(key))
	}
	s.dropFromIndex(ctx, res[1], key, now)
	return nil
}

// Merge applies ch to the record under key in one atomic script: it sets
// and deletes the changed keys only, moves the expiry and, when ch.SetUser,
// the owner. Concurrent merges that change different keys of one session
// all persist; when two change the same key, the one Redis runs last wins.
// Without ch.Create, a record that no longer exists (or whose expiry has
// passed) is not brought back: Merge then writes nothing and returns
// seshat.ErrSessionGone. A zero Expires is an error.
//
// On a single node the owner's index is updated in the same script. With
// other clients a new owner is registered in a command before the script,
// and a sliding expiry that crosses an IndexGranularity boundary costs one
// command after it.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	if ch.Expires.IsZero() {
		return fmt.Errorf("redisstore: merge %s: change has no expiry", short(key))
	}
	exp := ch.Expires.UnixMilli()
	now := s.now()
	hz := strconv.FormatInt(s.horizon(exp), 10)
	keys := []string{s.sessionKey(key)}
	if ch.SetUser && ch.UserID != "" {
		if s.cluster {
			if err := s.indexAdd(ctx, ch.UserID, key, hz, now); err != nil {
				return fail("merge", key, err)
			}
		} else {
			keys = append(keys, s.indexKey(ch.UserID))
		}
	}
	args := make([]any, 0, 9+2*len(ch.Set)+len(ch.Delete))
	args = append(args, strconv.FormatInt(exp, 10), ms(now), flag(ch.Create), flag(ch.SetUser),
		ch.UserID, key, hz, strconv.FormatInt(s.gran, 10), strconv.Itoa(len(ch.Set)))
	for k, v := range ch.Set {
		args = append(args, valuePrefix+k, v)
	}
	for _, k := range ch.Delete {
		args = append(args, valuePrefix+k)
	}
	res, err := s.runScript(ctx, mergeScript, keys, args...).Slice()
	if err != nil {
		return fail("merge", key, err)
	}
	if len(res) == 1 && res[0] == int64(0) {
		if s.cluster && ch.SetUser && ch.UserID != "" {
			// undo the registration made above; a leftover is harmless
			// (indexes are checked against the records) but wasteful.
			s.dropFromIndex(ctx, ch.UserID, key, now)
		}
		return fmt.Errorf("redisstore: merge %s: %w", short(key), seshat.ErrSessionGone)
	}
	if len(res) != 3 {
		return fmt.Errorf("redisstore: merge %s: unexpected script reply", short(key))
	}
	s.dropFromIndex(ctx, res[2], key, now)
	if owner, _ := res[1].(string); owner != "" {
		if err := s.indexAdd(ctx, owner, key, hz, now); err != nil {
			return fail("merge (extending the user index)", key, err)
		}
	}
	return nil
}

// Touch moves the expiry of the live record under key in one command (a
// script: HSET of the expiry field and PEXPIREAT). A missing or expired
// record is seshat.ErrNoRecord. For an owned session whose expiry crosses
// an IndexGranularity boundary, a second command extends the owner's index.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	if expires.IsZero() {
		return fmt.Errorf("redisstore: touch %s: no expiry given", short(key))
	}
	now := s.now()
	exp := expires.UnixMilli()
	res, err := s.runScript(ctx, touchScript, []string{s.sessionKey(key)},
		strconv.FormatInt(exp, 10), ms(now), strconv.FormatInt(s.gran, 10)).Slice()
	if err != nil {
		return fail("touch", key, err)
	}
	if len(res) == 1 && res[0] == int64(0) {
		return noRecord("touch", key)
	}
	if len(res) != 2 {
		return fmt.Errorf("redisstore: touch %s: unexpected script reply", short(key))
	}
	if owner, _ := res[1].(string); owner != "" {
		hz := strconv.FormatInt(s.horizon(exp), 10)
		if err := s.indexAdd(ctx, owner, key, hz, now); err != nil {
			return fail("touch (extending the user index)", key, err)
		}
	}
	return nil
}

// Take removes the value name from the live record under key and returns
// its tagged JSON, in one command (a script: HGET and HDEL of the value's
// field, after the same liveness check as Merge and Touch). Of several
// concurrent Takes of one value exactly one gets it: Redis runs scripts one
// at a time. ok is false, with a nil error, when the record is missing or
// expired or holds no such value. The expiry, the owner (and so the user
// index) and the other values are left alone.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, bool, error) {
	v, err := s.runScript(ctx, takeScript, []string{s.sessionKey(key)}, valuePrefix+name, ms(s.now())).Text()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fail("take", key, err)
	}
	return []byte(v), true, nil
}

// Delete removes the record under key, and the key from its owner's index
// (a second command, only for an owned record). A missing record is not an
// error.
func (s *Store) Delete(ctx context.Context, key string) error {
	owner, err := s.runScript(ctx, deleteScript, []string{s.sessionKey(key)}).Text()
	if err != nil {
		return fail("delete", key, err)
	}
	s.dropFromIndex(ctx, owner, key, s.now())
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// indexAdd registers key in userID's index until horizon hz (ms).
func (s *Store) indexAdd(ctx context.Context, userID, key, hz string, now time.Time) error {
	return s.runScript(ctx, indexScript, []string{s.indexKey(userID)}, "a", ms(now), hz, key).Err()
}

// dropFromIndex removes key from the index of owner (a string, or anything
// else for none). It is best effort: a member left behind points to a record
// that no longer names owner, which every reader of the index checks and
// prunes.
func (s *Store) dropFromIndex(ctx context.Context, owner any, key string, now time.Time) {
	o, _ := owner.(string)
	if o == "" {
		return
	}
	_ = s.runScript(ctx, indexScript, []string{s.indexKey(o)}, "r", ms(now), key).Err()
}
