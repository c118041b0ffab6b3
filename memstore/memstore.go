// Package memstore is an in-process seshat.Store: sessions live in this
// process's memory, in shards guarded by their own locks, and vanish when it
// exits. Use it for tests, single-instance apps and development; use a
// shared engine (redisstore, pgstore, sqlitestore...) when several processes
// serve the same users.
//
// It implements every optional capability: Merge (atomic under the shard
// lock, so concurrent requests that change different keys all persist),
// Touch, the per-user index, Iterate and DeleteExpired. An expired record is
// never returned; a background sweeper (Options.SweepInterval) frees them,
// and Close stops it.
//
// Each session is kept as one compact byte slice (length-prefixed keys and
// tagged-JSON values) plus its expiry and owner, so an idle session costs
// little more than its encoded values.
package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
)

const shardCount = 32

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// SweepInterval is how often expired sessions are freed; default one
	// minute. Negative disables the sweeper (expired records are still
	// never returned).
	SweepInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is an in-memory seshat.Store. It is safe for concurrent use.
type Store struct {
	shards [shardCount]shard
	seed   maphash.Seed
	now    func() time.Time

	users   sync.Mutex
	byUser  map[string]map[string]struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type shard struct {
	mu   sync.Mutex
	recs map[string]*entry
}

type entry struct {
	blob    []byte // encoded values
	expires int64  // unix nanoseconds
	user    string
}

// New returns an empty store and starts its sweeper.
func New(opts Options) *Store {
	s := &Store{seed: maphash.MakeSeed(), now: opts.Now, byUser: map[string]map[string]struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].recs = map[string]*entry{}
	}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = time.Minute
	}
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	if interval > 0 {
		go s.sweep(interval)
	} else {
		close(s.stopped)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

func (s *Store) live(e *entry) bool { return e != nil && e.expires > s.now().UnixNano() }

// Load returns the record under key, or seshat.ErrNoRecord.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	e := sh.recs[key]
	if !s.live(e) {
		sh.mu.Unlock()
		return nil, seshat.ErrNoRecord
	}
	blob, exp, user := e.blob, e.expires, e.user
	sh.mu.Unlock()
	values, err := decode(blob)
	if err != nil {
		return nil, err
	}
	return &seshat.Record{Values: values, Expires: time.Unix(0, exp), UserID: user}, nil
}

// Save replaces the record under key.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	e := &entry{blob: encode(rec.Values), expires: rec.Expires.UnixNano(), user: rec.UserID}
	sh := s.shard(key)
	sh.mu.Lock()
	old := sh.recs[key]
	sh.recs[key] = e
	sh.mu.Unlock()
	s.reindex(key, old, e.user)
	return nil
}

// Delete removes the record under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	old := sh.recs[key]
	delete(sh.recs, key)
	sh.mu.Unlock()
	if old != nil {
		s.unindex(key, old.user)
	}
	return nil
}

// Merge applies ch atomically under the session's shard lock.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	sh := s.shard(key)
	sh.mu.Lock()
	old := sh.recs[key]
	if !s.live(old) {
		if !ch.Create {
			sh.mu.Unlock()
			return seshat.ErrSessionGone
		}
		old = nil
	}
	var blob []byte
	user := ""
	if old != nil {
		var err error
		if blob, err = merge(old.blob, ch); err != nil {
			sh.mu.Unlock()
			return err
		}
		user = old.user
	} else {
		blob = encode(ch.Set)
	}
	if ch.SetUser {
		user = ch.UserID
	}
	e := &entry{blob: blob, expires: ch.Expires.UnixNano(), user: user}
	sh.recs[key] = e
	sh.mu.Unlock()
	if old == nil || old.user != user {
		s.reindex(key, old, user)
	}
	return nil
}

// Touch moves the expiry of the record under key.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.recs[key]
	if !s.live(e) {
		return seshat.ErrNoRecord
	}
	// Replace rather than mutate: Load copies fields outside the lock.
	sh.recs[key] = &entry{blob: e.blob, expires: expires.UnixNano(), user: e.user}
	return nil
}

func (s *Store) reindex(key string, old *entry, user string) {
	if old != nil && old.user != "" && old.user != user {
		s.unindex(key, old.user)
	}
	if user == "" {
		return
	}
	s.users.Lock()
	set := s.byUser[user]
	if set == nil {
		set = map[string]struct{}{}
		s.byUser[user] = set
	}
	set[key] = struct{}{}
	s.users.Unlock()
}

func (s *Store) unindex(key, user string) {
	if user == "" {
		return
	}
	s.users.Lock()
	if set := s.byUser[user]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(s.byUser, user)
		}
	}
	s.users.Unlock()
}

func (s *Store) userKeys(user string) []string {
	s.users.Lock()
	defer s.users.Unlock()
	keys := make([]string, 0, len(s.byUser[user]))
	for k := range s.byUser[user] {
		keys = append(keys, k)
	}
	return keys
}

// ListByUser returns the live sessions owned by userID.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	var out []seshat.SessionInfo
	for _, k := range s.userKeys(userID) {
		sh := s.shard(k)
		sh.mu.Lock()
		e := sh.recs[k]
		if s.live(e) && e.user == userID {
			out = append(out, seshat.SessionInfo{Key: k, UserID: userID, Expires: time.Unix(0, e.expires)})
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// RevokeUser deletes every session of userID.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	n := 0
	for _, k := range s.userKeys(userID) {
		sh := s.shard(k)
		sh.mu.Lock()
		e := sh.recs[k]
		if e != nil && e.user == userID {
			delete(sh.recs, k)
			if s.live(e) {
				n++
			}
		}
		sh.mu.Unlock()
		s.unindex(k, userID)
	}
	return n, nil
}

// Iterate calls fn for every live session, stopping at fn's first error.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		infos := make([]seshat.SessionInfo, 0, len(sh.recs))
		for k, e := range sh.recs {
			if s.live(e) {
				infos = append(infos, seshat.SessionInfo{Key: k, UserID: e.user, Expires: time.Unix(0, e.expires)})
			}
		}
		sh.mu.Unlock()
		for _, in := range infos {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(in); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteExpired frees expired sessions and returns how many.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		var gone []*entry
		var goneKeys []string
		sh.mu.Lock()
		for k, e := range sh.recs {
			if !s.live(e) {
				delete(sh.recs, k)
				gone, goneKeys = append(gone, e), append(goneKeys, k)
			}
		}
		sh.mu.Unlock()
		for j, e := range gone {
			s.unindex(goneKeys[j], e.user)
		}
		n += len(gone)
	}
	return n, nil
}

func (s *Store) sweep(every time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.DeleteExpired(context.Background())
		}
	}
}

// Close stops the sweeper and waits for it. The records stay readable.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.stopped
	return nil
}

// encode packs values as uvarint(len key) key uvarint(len value) value...
func encode(values map[string][]byte) []byte {
	n := 0
	for k, v := range values {
		n += len(k) + len(v) + 2*binary.MaxVarintLen32
	}
	b := make([]byte, 0, n)
	for k, v := range values {
		b = appendEntry(b, k, v)
	}
	// Trim the slack so an idle session holds no spare capacity.
	return b[:len(b):len(b)]
}

var errCorrupt = errors.New("memstore: corrupt record")

func decode(b []byte) (map[string][]byte, error) {
	// A first pass checks the record and sizes the map and the keys; the
	// keys are then substrings of one string, and the values alias b
	// (records are replaced, never changed in place).
	n, keyBytes := 0, 0
	for rest := b; len(rest) > 0; n++ {
		k, _, r, err := next(rest)
		if err != nil {
			return nil, err
		}
		keyBytes += len(k)
		rest = r
	}
	var kb strings.Builder
	kb.Grow(keyBytes)
	for rest := b; len(rest) > 0; {
		k, _, r, _ := next(rest)
		kb.Write(k)
		rest = r
	}
	keys := kb.String()
	values := make(map[string][]byte, n)
	for rest := b; len(rest) > 0; {
		k, v, r, _ := next(rest)
		values[keys[:len(k)]] = v
		keys = keys[len(k):]
		rest = r
	}
	return values, nil
}

// next splits the first key and value off a record.
func next(b []byte) (k, v, rest []byte, err error) {
	var parts [2][]byte
	for i := range parts {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return nil, nil, nil, errCorrupt
		}
		parts[i], b = b[n:n+int(l)], b[n+int(l):]
	}
	return parts[0], parts[1], b, nil
}

// merge returns a new record: blob without the keys ch deletes or sets,
// then ch's values. It works on the encoded form, so a write costs one
// allocation however many keys the session holds.
func merge(blob []byte, ch *seshat.Change) ([]byte, error) {
	size := len(blob)
	for k, v := range ch.Set {
		size += len(k) + len(v) + 2*binary.MaxVarintLen32
	}
	out := make([]byte, 0, size)
	for rest := blob; len(rest) > 0; {
		k, v, r, err := next(rest)
		if err != nil {
			return nil, err
		}
		rest = r
		if _, set := ch.Set[string(k)]; set || deleted(ch.Delete, k) {
			continue
		}
		out = appendEntry(out, k, v)
	}
	for k, v := range ch.Set {
		out = appendEntry(out, k, v)
	}
	return out[:len(out):len(out)], nil
}

func deleted(keys []string, k []byte) bool {
	for _, d := range keys {
		if d == string(k) {
			return true
		}
	}
	return false
}

func appendEntry[K string | []byte](b []byte, k K, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

var (
	_ seshat.Store     = (*Store)(nil)
	_ seshat.Merger    = (*Store)(nil)
	_ seshat.Toucher   = (*Store)(nil)
	_ seshat.UserIndex = (*Store)(nil)
	_ seshat.Iterator  = (*Store)(nil)
	_ seshat.Cleaner   = (*Store)(nil)
)
