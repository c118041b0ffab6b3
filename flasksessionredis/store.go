// Package flasksessionredis is a seshat.Store over the Redis layout of
// Flask-Session 0.3.2 (SESSION_TYPE="redis"), so that a seshat app and a
// Flask app share sessions: key SESSION_KEY_PREFIX + session id (default
// "session:"), value the session dict pickled at protocol 4, expiry set
// with SETEX in whole seconds. Use it with flasksession.IDScheme, the Flask
// app's SECRET_KEY and the same cookie name:
//
//	ids, err := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{secretKey}})
//	store := flasksessionredis.New(client, flasksessionredis.Options{})
//	m, err := seshat.New(seshat.Config{Keys: ..., Store: store, IDScheme: ids})
//
// Package flasksession documents the layout, the values that can cross
// (no datetime, UUID or other objects) and the security caveats (use signed
// ids; the store must be trusted, since Flask unpickles what is in it).
//
// The store implements seshat.Merger with an optimistic WATCH/MULTI/EXEC
// transaction (GET, apply the change, SETEX), retried with backoff when
// another client changes the key in between, so concurrent seshat requests
// on one session lose no update. Flask-Session does not take part in that:
// it rewrites the whole record at the end of every request, so a Flask
// request that overlaps a seshat request on the same session can still
// overwrite the seshat request's changes. It also implements seshat.Toucher
// (EXPIRE) and seshat.Iterator (SCAN over the prefix); it has no per-user
// index (seshat.UserIndex) because the layout has none.
package flasksessionredis

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flasksession"
)

// DefaultMaxMergeAttempts bounds the optimistic transactions of one Merge.
const DefaultMaxMergeAttempts = 200

// Options configure a Store. Set them to the Flask app's values.
type Options struct {
	// Prefix is SESSION_KEY_PREFIX; "" means "session:".
	Prefix string
	// OwnerKey and Limits are passed to flasksession.Codec (see there).
	OwnerKey string
	Limits   flasksession.Limits
	// MaxMergeAttempts bounds how often Merge retries its transaction when
	// the key keeps changing under it; 0 means DefaultMaxMergeAttempts.
	MaxMergeAttempts int
	// Now is the clock used to turn expiry times into TTLs; nil means
	// time.Now.
	Now func() time.Time
}

// Store is a seshat.Store over Flask-Session's Redis layout. It is safe for
// concurrent use.
type Store struct {
	rdb      redis.UniversalClient
	prefix   string
	codec    flasksession.Codec
	attempts int
	now      func() time.Time
	// beforeExec, when set (tests), runs between a merge's read and its
	// MULTI/EXEC.
	beforeExec func()
	// Merges of one key within this process queue on a stripe lock, so
	// that they do not abort each other's transactions; WATCH still
	// guards against every other writer.
	seed    maphash.Seed
	stripes [64]sync.Mutex
}

var (
	_ seshat.Store    = (*Store)(nil)
	_ seshat.Merger   = (*Store)(nil)
	_ seshat.Toucher  = (*Store)(nil)
	_ seshat.Iterator = (*Store)(nil)
)

// New returns a store over rdb (a *redis.Client, *redis.ClusterClient or
// any redis.UniversalClient). Close does not close rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	s := &Store{
		rdb:      rdb,
		prefix:   opts.Prefix,
		codec:    flasksession.Codec{Protocol: flasksession.ProtocolRedis, OwnerKey: opts.OwnerKey, Limits: opts.Limits},
		attempts: opts.MaxMergeAttempts,
		now:      opts.Now,
		seed:     maphash.MakeSeed(),
	}
	if s.prefix == "" {
		s.prefix = flasksession.DefaultKeyPrefix
	}
	if s.attempts <= 0 {
		s.attempts = DefaultMaxMergeAttempts
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func (s *Store) redisKey(key string) (string, error) {
	if err := flasksession.CheckKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// unavailable marks a failure of Redis itself.
func unavailable(op string, err error) error {
	return fmt.Errorf("flasksessionredis: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
}

// ttl converts an expiry to SETEX's whole seconds, rounded up so that a
// session never ends early; ok is false when the expiry has passed.
func (s *Store) ttl(expires time.Time) (time.Duration, bool) {
	d := expires.Sub(s.now())
	if d <= 0 {
		return 0, false
	}
	return (d + time.Second - 1).Truncate(time.Second), true
}

// Load returns the session under key. Its Expires comes from the key's TTL.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	k, err := s.redisKey(key)
	if err != nil {
		return nil, err
	}
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, k)
		pttl = p.PTTL(ctx, k)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil, seshat.ErrNoRecord
	}
	if err != nil {
		return nil, unavailable("load", err)
	}
	pickled, err := get.Bytes()
	if err != nil {
		return nil, unavailable("load", err)
	}
	values, user, err := s.codec.Decode(pickled)
	if err != nil {
		return nil, err
	}
	rec := &seshat.Record{Values: values, UserID: user}
	if d := pttl.Val(); d > 0 {
		rec.Expires = s.now().Add(d)
	}
	return rec, nil
}

// Save writes rec under key with SETEX, as Flask-Session does. A record
// whose expiry has passed is deleted instead.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	k, err := s.redisKey(key)
	if err != nil {
		return err
	}
	ttl, ok := s.ttl(rec.Expires)
	if !ok {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			return unavailable("delete", err)
		}
		return nil
	}
	pickled, err := s.codec.Encode(rec.Values, rec.UserID)
	if err != nil {
		return err
	}
	if err := s.rdb.SetEx(ctx, k, pickled, ttl).Err(); err != nil {
		return unavailable("save", err)
	}
	return nil
}

// Delete removes the session under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.redisKey(key)
	if err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, k).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

// ErrContention is returned (wrapped) by Merge when the key kept changing
// under MaxMergeAttempts transactions in a row.
var ErrContention = errors.New("flasksessionredis: merge abandoned after too many conflicting writes")

// Merge applies ch in an optimistic transaction: WATCH the key, GET and
// decode it, apply the change, and SETEX (or DEL, for an expiry in the
// past) inside MULTI/EXEC. When another client wrote the key in between,
// EXEC fails and Merge starts over after a short random backoff, up to
// Options.MaxMergeAttempts times. Merges of one session from this Store
// wait for each other instead of conflicting.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	k, err := s.redisKey(key)
	if err != nil {
		return err
	}
	mu := &s.stripes[maphash.String(s.seed, key)%uint64(len(s.stripes))]
	mu.Lock()
	defer mu.Unlock()
	backoff := time.Millisecond
	for range s.attempts {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			return s.mergeTx(ctx, tx, k, ch)
		}, k)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, redis.TxFailedErr):
			// Another client changed the key: wait a little, try again.
			t := time.NewTimer(rand.N(backoff) + backoff/2)
			select {
			case <-ctx.Done():
				t.Stop()
				return unavailable("merge", ctx.Err())
			case <-t.C:
			}
			backoff = min(2*backoff, 50*time.Millisecond)
		case errors.Is(err, seshat.ErrSessionGone):
			return seshat.ErrSessionGone
		default:
			var nr notRedis
			if errors.As(err, &nr) {
				return nr.err
			}
			return unavailable("merge", err)
		}
	}
	return fmt.Errorf("%w: %w (%d attempts)", seshat.ErrStoreUnavailable, ErrContention, s.attempts)
}

// notRedis carries out of the transaction a failure that is not Redis's (a
// record that cannot be decoded, a value that cannot be pickled), so that
// Merge returns it as it is rather than as an outage.
type notRedis struct{ err error }

func (e notRedis) Error() string { return e.err.Error() }

func (s *Store) mergeTx(ctx context.Context, tx *redis.Tx, k string, ch *seshat.Change) error {
	old, err := tx.Get(ctx, k).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		if !ch.Create {
			return seshat.ErrSessionGone
		}
		old = nil
	case err != nil:
		return err
	}
	pickled, err := s.codec.Merge(old, ch)
	if err != nil {
		return notRedis{err}
	}
	ttl, live := s.ttl(ch.Expires)
	if s.beforeExec != nil {
		s.beforeExec()
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if live {
			p.SetEx(ctx, k, pickled, ttl)
		} else {
			p.Del(ctx, k)
		}
		return nil
	})
	return err
}

// Touch moves the session's expiry with EXPIRE (or deletes it, for an
// expiry in the past).
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	k, err := s.redisKey(key)
	if err != nil {
		return err
	}
	ttl, live := s.ttl(expires)
	var n int64
	if live {
		ok, err := s.rdb.Expire(ctx, k, ttl).Result()
		if err != nil {
			return unavailable("touch", err)
		}
		if ok {
			n = 1
		}
	} else if n, err = s.rdb.Del(ctx, k).Result(); err != nil {
		return unavailable("touch", err)
	}
	if n == 0 {
		return seshat.ErrNoRecord
	}
	return nil
}

// Iterate calls fn for every session under the prefix, walking every
// master of a cluster with SCAN. SessionInfo.Key is the session id;
// UserID is the owner, "" for a session whose record cannot be decoded
// (one that holds a datetime, for example). It stops at fn's first error
// and returns it.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	errStop := errors.New("stop")
	var stopErr error
	walk := func(ctx context.Context, c redis.UniversalClient) error {
		err := s.scan(ctx, c, func(in seshat.SessionInfo) error {
			if err := fn(in); err != nil {
				stopErr = err
				return errStop
			}
			return nil
		})
		return err
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		// fn is not safe to call concurrently: walk the masters one by one.
		var masters []*redis.Client
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			masters = append(masters, c)
			return nil
		}); err != nil {
			return unavailable("iterate", err)
		}
		for _, m := range masters {
			if err = walk(ctx, m); err != nil {
				break
			}
		}
	} else {
		err = walk(ctx, s.rdb)
	}
	if errors.Is(err, errStop) {
		return stopErr
	}
	return err
}

func (s *Store) scan(ctx context.Context, c redis.UniversalClient, fn func(seshat.SessionInfo) error) error {
	match := globEscape(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, 200).Result()
		if err != nil {
			return unavailable("iterate", err)
		}
		if len(keys) > 0 {
			gets := make([]*redis.StringCmd, len(keys))
			pttls := make([]*redis.DurationCmd, len(keys))
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range keys {
					gets[i] = p.Get(ctx, k)
					pttls[i] = p.PTTL(ctx, k)
				}
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return unavailable("iterate", err)
			}
			now := s.now()
			for i, k := range keys {
				pickled, err := gets[i].Bytes()
				if err != nil {
					continue // expired or deleted since SCAN saw it
				}
				info := seshat.SessionInfo{Key: strings.TrimPrefix(k, s.prefix)}
				info.UserID, _ = s.codec.Owner(pickled)
				if d := pttls[i].Val(); d > 0 {
					info.Expires = now.Add(d)
				}
				if err := fn(info); err != nil {
					return err
				}
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscape escapes the characters SCAN's MATCH pattern treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }
