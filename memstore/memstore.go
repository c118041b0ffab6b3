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
// Each session is kept as one compact, immutable string (length-prefixed
// keys and tagged-JSON values) plus its expiry and owner, so an idle session
// costs little more than its encoded values. A record's string is replaced,
// never changed: Load hands out keys that are substrings of it and copies
// only the values, the one part a caller can write to.
package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"slices"
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
	recs map[string]entry
}

// entry is kept by value in its shard's map, so a write allocates only its
// blob; every access holds the shard lock.
type entry struct {
	blob    string // encoded values (see encode)
	shape   shape
	expires int64 // unix nanoseconds
	user    string
}

// shape is how many values a blob holds and their total size, so that
// decode sizes its map and copy without a first pass.
type shape struct{ n, size int }

// New returns an empty store and starts its sweeper.
func New(opts Options) *Store {
	s := &Store{seed: maphash.MakeSeed(), now: opts.Now, byUser: map[string]map[string]struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].recs = map[string]entry{}
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

// live reports whether the entry a map lookup found (ok) has not expired.
func (s *Store) live(e entry, ok bool) bool { return ok && e.expires > s.now().UnixNano() }

// Load returns the record under key, or seshat.ErrNoRecord.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	e, ok := sh.recs[key]
	sh.mu.Unlock()
	if !s.live(e, ok) {
		return nil, seshat.ErrNoRecord
	}
	var rec *seshat.Record
	var buf []byte
	if e.shape.size <= smallValues {
		both := new(recordWithValues)
		rec, buf = &both.rec, both.values[:0]
	} else {
		rec = new(seshat.Record)
	}
	values, err := decode(e.blob, e.shape, buf)
	if err != nil {
		return nil, err
	}
	*rec = seshat.Record{Values: values, Expires: time.Unix(0, e.expires), UserID: e.user}
	return rec, nil
}

// smallValues is the most value bytes Load copies into the allocation of
// the Record itself (a 128-byte size class): a session of a user id, a
// token and a flag or two costs one allocation less. The caller owns both.
const smallValues = 80

// recordWithValues is a Record and the copy of its values, allocated once.
type recordWithValues struct {
	rec    seshat.Record
	values [smallValues]byte
}

// Save replaces the record under key.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	blob, shape := encode(rec.Values)
	e := entry{blob: blob, shape: shape, expires: rec.Expires.UnixNano(), user: rec.UserID}
	sh := s.shard(key)
	sh.mu.Lock()
	old := sh.recs[key] // the zero entry, without owner, when there is none
	sh.recs[key] = e
	sh.mu.Unlock()
	s.reindex(key, old.user, e.user)
	return nil
}

// Delete removes the record under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	old := sh.recs[key]
	delete(sh.recs, key)
	sh.mu.Unlock()
	s.unindex(key, old.user)
	return nil
}

// Merge applies ch atomically under the session's shard lock.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	sh := s.shard(key)
	sh.mu.Lock()
	old, had := sh.recs[key]
	live := s.live(old, had)
	if !live && !ch.Create {
		sh.mu.Unlock()
		return seshat.ErrSessionGone
	}
	e := entry{expires: ch.Expires.UnixNano()}
	if live {
		var err error
		if e.blob, e.shape, err = merge(old.blob, ch); err != nil {
			sh.mu.Unlock()
			return err
		}
		e.user = old.user
	} else {
		e.blob, e.shape = encode(ch.Set)
	}
	if ch.SetUser {
		e.user = ch.UserID
	}
	user := e.user
	sh.recs[key] = e
	sh.mu.Unlock()
	// The index still lists an expired record's owner until the sweeper
	// runs: unlist it when its replacement has another owner.
	if !live || old.user != user {
		s.reindex(key, old.user, user)
	}
	return nil
}

// Touch moves the expiry of the record under key.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.recs[key]
	if !s.live(e, ok) {
		return seshat.ErrNoRecord
	}
	e.expires = expires.UnixNano()
	sh.recs[key] = e
	return nil
}

// reindex lists key under user, and unlists it from its previous owner
// oldUser ("" for none).
func (s *Store) reindex(key, oldUser, user string) {
	if oldUser != user {
		s.unindex(key, oldUser)
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
		e, ok := sh.recs[k]
		if s.live(e, ok) && e.user == userID {
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
		e, ok := sh.recs[k]
		if ok && e.user == userID {
			delete(sh.recs, k)
			if s.live(e, true) {
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
			if s.live(e, true) {
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
		var gone []keyUser
		sh.mu.Lock()
		for k, e := range sh.recs {
			if !s.live(e, true) {
				delete(sh.recs, k)
				gone = append(gone, keyUser{k, e.user})
			}
		}
		sh.mu.Unlock()
		for _, g := range gone {
			s.unindex(g.key, g.user)
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

// keyUser is a store key and its owner, to unindex after the shard lock.
type keyUser struct{ key, user string }

// encode packs values as uvarint(len key) key uvarint(len value) value...
func encode(values map[string][]byte) (string, shape) {
	n, sh := 0, shape{n: len(values)}
	for k, v := range values {
		n += entrySize(len(k), len(v))
		sh.size += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for k, v := range values {
		writeHead(&b, k, len(v))
		b.Write(v)
	}
	return b.String(), sh
}

var errCorrupt = errors.New("memstore: corrupt record")

// decode returns the values of a record as the caller's own: the keys are
// substrings of the immutable blob, and the values share one fresh copy of
// their bytes, each capped at its length so that an append by the caller
// reallocates instead of overwriting the next value. The copy goes into buf
// when it has room. sh sizes the map and the copy; a wrong shape costs
// allocations, not correctness.
func decode(blob string, sh shape, buf []byte) (map[string][]byte, error) {
	values := make(map[string][]byte, sh.n)
	if cap(buf) < sh.size {
		buf = make([]byte, 0, sh.size)
	}
	for rest := blob; len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return nil, errCorrupt
		}
		start := len(buf)
		buf = append(buf, v...)
		values[k] = buf[start:len(buf):len(buf)]
		rest = r
	}
	return values, nil
}

// next splits the first key and value off a record; ok is false when b
// does not start with a whole entry.
func next(b string) (k, v, rest string, ok bool) {
	// A key and a value under 128 bytes each: one-byte lengths.
	if len(b) > 1 && b[0] < 0x80 && int(b[0]) < len(b)-1 {
		kl := int(b[0])
		if vl := int(b[1+kl]); vl < 0x80 && vl <= len(b)-2-kl {
			return b[1 : 1+kl], b[2+kl : 2+kl+vl], b[2+kl+vl:], true
		}
	}
	if k, b, ok = field(b); ok {
		v, b, ok = field(b)
	}
	return k, v, b, ok
}

// field splits one length-prefixed field off b. The one-byte length of a
// key or value under 128 bytes is read without a call.
func field(b string) (f, rest string, ok bool) {
	l, n := uint64(0), 1
	if len(b) > 0 && b[0] < 0x80 {
		l = uint64(b[0])
	} else if l, n = uvarintLong(b); n <= 0 {
		return "", "", false
	}
	if uint64(len(b)-n) < l {
		return "", "", false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}

// uvarintLong is binary.Uvarint for a string.
func uvarintLong(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1) // overflow
		}
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// merge returns a new record: blob without the keys ch deletes or sets,
// then ch's values. It works on the encoded form, so a write costs one
// allocation however many keys the session holds: the entries it keeps are
// copied as they are.
func merge(blob string, ch *seshat.Change) (string, shape, error) {
	// ch.Set is ranged over once, into a stack array while it is small (a
	// request sets a key or two): each range over a map costs more than
	// comparing a key with a few others.
	var setBuf [smallSet]setEntry
	sets, size, sh := setBuf[:0], len(blob), shape{n: len(ch.Set)}
	for k, v := range ch.Set {
		sets = append(sets, setEntry{k, v})
		size += entrySize(len(k), len(v))
		sh.size += len(v)
	}
	var out strings.Builder
	out.Grow(size)
	for rest := blob; len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return "", shape{}, errCorrupt
		}
		if !replaced(k, sets, ch) {
			out.WriteString(rest[:len(rest)-len(r)])
			sh.n++
			sh.size += len(v)
		}
		rest = r
	}
	for _, e := range sets {
		writeHead(&out, e.k, len(e.v))
		out.Write(e.v)
	}
	return out.String(), sh, nil
}

// smallSet is how many keys of a Change's Set merge keeps on the stack and
// looks up by comparison rather than in the map.
const smallSet = 8

// setEntry is one key and value of a Change's Set.
type setEntry struct {
	k string
	v []byte
}

// replaced reports whether ch sets or deletes k; sets holds ch.Set.
func replaced(k string, sets []setEntry, ch *seshat.Change) bool {
	if len(sets) <= smallSet {
		for _, e := range sets {
			if e.k == k {
				return true
			}
		}
	} else if _, ok := ch.Set[k]; ok {
		return true
	}
	return slices.Contains(ch.Delete, k)
}

// entrySize is the encoded size of one key and value.
func entrySize(k, v int) int {
	return uvarintLen(k) + k + uvarintLen(v) + v
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// writeHead writes what precedes a value's bytes: the key's length, the key
// and the value's length.
func writeHead(b *strings.Builder, k string, vlen int) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(binary.AppendUvarint(tmp[:0], uint64(len(k))))
	b.WriteString(k)
	b.Write(binary.AppendUvarint(tmp[:0], uint64(vlen)))
}

var (
	_ seshat.Store     = (*Store)(nil)
	_ seshat.Merger    = (*Store)(nil)
	_ seshat.Toucher   = (*Store)(nil)
	_ seshat.UserIndex = (*Store)(nil)
	_ seshat.Iterator  = (*Store)(nil)
	_ seshat.Cleaner   = (*Store)(nil)
)
