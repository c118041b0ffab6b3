// Package memstore is an in-process seshat.Store: sessions live in this
// process's memory, in shards guarded by their own locks, and vanish when it
// exits. Use it for tests, single-instance apps and development; use a
// shared engine (redisstore, pgstore, sqlitestore...) when several processes
// serve the same users.
//
// It implements every optional capability: Merge (atomic under the shard
// lock, so concurrent requests that change different keys all persist),
// Touch, Take, the per-user index, Iterate and DeleteExpired. An expired
// record is never returned; a background sweeper (Options.SweepInterval)
// frees them, and Close stops it.
//
// What holds the sessions contains no pointers, so that the garbage
// collector has nothing to scan or mark however many are live. Each shard
// keeps its records in one byte arena (the key, the owner, then
// length-prefixed keys and tagged-JSON values), a slice of fixed-size slots
// (where a record lies in the arena, its expiry, its shape) and a map from
// the 64-bit hash of a key to its first slot; keys whose hashes collide are chained through their slots and
// told apart by comparing the stored key bytes. A write appends the new
// version of a record and leaves the old one as garbage; when garbage is
// more than half of a shard's arena (and at least 64 KiB), the live
// records are copied into a fresh arena, so writes stay amortized O(record
// size) and an arena holds about twice its live bytes at most. Load copies
// what it returns: the Record and its values are the caller's own, and its
// value names are strings, shared with other Loads when the shard's small
// cache of names holds them. Only the per-user index (sessions with an
// owner) keeps strings.
package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math"
	"slices"
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
	// hash replaces the seeded maphash of keys when set: tests make every
	// key collide with it.
	hash func(key string) uint64
	now  func() time.Time

	users   sync.Mutex
	byUser  map[string]map[string]struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// shard holds the records whose key hashes to it. None of its containers
// holds pointers but names, a few strings. Every access holds mu.
type shard struct {
	mu sync.Mutex
	// idx maps the hash of a key to the first slot of its chain.
	idx   map[uint64]uint32
	slots []slot
	// free is the first free slot + 1 (0: none); free slots chain through
	// their next.
	free uint32
	used int // live and expired slots, not free ones
	// arena holds the records, one after the other: key, owner, blob.
	arena []byte
	// garbage is how many bytes of arena no slot refers to any more.
	garbage int
	// names holds value names Load returned lately, to share them.
	names [nameCache]string
	// compactions counts compactions, for tests.
	compactions int
}

// slot says where a record lies in its shard's arena and what it is. A free
// slot has off -1.
type slot struct {
	off     int
	expires int64 // unix nanoseconds
	// The lengths of the key, the owner ("" for none) and the blob
	// (encoded values, see appendEncode) that follow each other from off.
	klen, ulen, blen uint32
	// The shape of the blob: how many values it holds, their total size.
	n, size uint32
	// next is the next slot with the same key hash + 1 (0: none), or for
	// a free slot the next free one + 1.
	next uint32
}

// shape is how many values a blob holds and their total size, so that
// decode sizes its map and copy without a first pass.
type shape struct{ n, size int }

// minGarbage is how many bytes of garbage a shard's arena keeps at least
// before it is compacted: small shards are not copied at every write.
const minGarbage = 64 << 10

// nameCache is how many value names a shard keeps for Load to share.
const nameCache = 32

// maxNameCached is the longest value name kept in the cache.
const maxNameCached = 64

var errTooLarge = errors.New("memstore: a record's key, owner or values exceed 4 GiB")

// New returns an empty store and starts its sweeper.
func New(opts Options) *Store {
	s := &Store{seed: maphash.MakeSeed(), now: opts.Now, byUser: map[string]map[string]struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].idx = map[uint64]uint32{}
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

// locate returns the hash of key and its shard.
func (s *Store) locate(key string) (uint64, *shard) {
	var h uint64
	if s.hash != nil {
		h = s.hash(key)
	} else {
		h = maphash.String(s.seed, key)
	}
	return h, &s.shards[h%shardCount]
}

// hashBytes is the hash of a key stored in an arena.
func (s *Store) hashBytes(key []byte) uint64 {
	if s.hash != nil {
		return s.hash(string(key))
	}
	return maphash.Bytes(s.seed, key)
}

// find returns the slot holding key, whose hash is h, or -1.
func (sh *shard) find(h uint64, key string) int {
	i, ok := sh.idx[h]
	if !ok {
		return -1
	}
	for {
		sl := &sh.slots[i]
		if string(sh.arena[sl.off:sl.off+int(sl.klen)]) == key {
			return int(i)
		}
		if sl.next == 0 {
			return -1
		}
		i = sl.next - 1
	}
}

// findLive is find for a record that has not expired at now (unix
// nanoseconds): -1 when there is none or it has expired.
func (sh *shard) findLive(h uint64, key string, now int64) int {
	if i := sh.find(h, key); i >= 0 && sh.slots[i].expires > now {
		return i
	}
	return -1
}

// key, user and blob return the parts of slot i's record. The bytes of a
// record are never written over (a write appends to the arena, compaction
// copies into a new one), but only the shard's lock keeps a slot current.
func (sh *shard) key(i int) []byte {
	sl := &sh.slots[i]
	return sh.arena[sl.off : sl.off+int(sl.klen)]
}

func (sh *shard) user(i int) []byte {
	sl := &sh.slots[i]
	start := sl.off + int(sl.klen)
	return sh.arena[start : start+int(sl.ulen)]
}

func (sh *shard) blob(i int) []byte {
	sl := &sh.slots[i]
	start := sl.off + int(sl.klen) + int(sl.ulen)
	return sh.arena[start : start+int(sl.blen)]
}

// userOr returns the owner of slot i as a string: same when they are equal,
// which costs no allocation.
func (sh *shard) userOr(i int, same string) string {
	if u := sh.user(i); string(u) != same {
		return string(u)
	}
	return same
}

// begin appends the head of a new record (key and owner) to the arena and
// returns where the record starts; the caller appends the blob and calls
// commit, or truncates the arena back to the offset begin returned.
func begin[U string | []byte](sh *shard, key string, user U) int {
	off := len(sh.arena)
	sh.arena = append(sh.arena, key...)
	sh.arena = append(sh.arena, user...)
	return off
}

// rewrite replaces the live record of slot i (key hashes to h) with one
// that has owner user, ch applied to its values and expiry expires; on an
// error the arena is left as it was.
func rewrite[U string | []byte](sh *shard, h uint64, i int, key string, user U, ch *seshat.Change, expires int64) error {
	off := begin(sh, key, user)
	var (
		sp  shape
		err error
	)
	if sh.arena, sp, err = appendMerge(sh.arena, sh.blob(i), ch); err != nil {
		sh.arena = sh.arena[:off]
		return err
	}
	return sh.commit(h, i, off, len(key), len(user), sp, expires)
}

// put makes a record of key, owner user, values and expiry expires the one
// of slot i (key hashes to h), or of a new slot when i < 0.
func (sh *shard) put(h uint64, i int, key, user string, values map[string][]byte, expires int64) error {
	off := begin(sh, key, user)
	var sp shape
	sh.arena, sp = appendEncode(sh.arena, values)
	return sh.commit(h, i, off, len(key), len(user), sp, expires)
}

// commit makes the record the arena holds from off (key of klen bytes,
// owner of ulen, then a blob of shape sp up to the arena's end) the one of
// slot i, or of a new slot chained under h when i < 0. The record i held
// becomes garbage.
func (sh *shard) commit(h uint64, i, off, klen, ulen int, sp shape, expires int64) error {
	blen := len(sh.arena) - off - klen - ulen
	if uint64(max(klen, ulen, blen)) > math.MaxUint32 {
		sh.arena = sh.arena[:off]
		return errTooLarge
	}
	sl := slot{off: off, expires: expires, klen: uint32(klen), ulen: uint32(ulen), blen: uint32(blen), n: uint32(sp.n), size: uint32(sp.size)}
	if i >= 0 {
		old := &sh.slots[i]
		sh.garbage += recordLen(old)
		sl.next = old.next
		*old = sl
		return nil
	}
	if sh.free != 0 {
		i = int(sh.free - 1)
		sh.free = sh.slots[i].next
		sh.slots[i] = sl
	} else {
		i = len(sh.slots)
		sh.slots = append(sh.slots, sl)
	}
	if head, ok := sh.idx[h]; ok {
		sh.slots[i].next = head + 1
	}
	sh.idx[h] = uint32(i)
	sh.used++
	return nil
}

func recordLen(sl *slot) int { return int(sl.klen) + int(sl.ulen) + int(sl.blen) }

// remove frees slot i, whose key hashes to h.
func (sh *shard) remove(h uint64, i int) {
	sl := sh.slots[i]
	sh.garbage += recordLen(&sl)
	if head := sh.idx[h]; int(head) == i {
		if sl.next == 0 {
			delete(sh.idx, h)
		} else {
			sh.idx[h] = sl.next - 1
		}
	} else {
		for p := head; ; {
			ps := &sh.slots[p]
			if int(ps.next)-1 == i {
				ps.next = sl.next
				break
			}
			p = ps.next - 1
		}
	}
	sh.slots[i] = slot{off: -1, next: sh.free}
	sh.free = uint32(i + 1)
	sh.used--
}

// compact copies the live records into a fresh arena once garbage is more
// than half of the arena and at least minGarbage, so that each byte a
// write leaves behind is copied at most about once. An empty shard lets go
// of its slots and its index too.
func (sh *shard) compact() {
	if sh.garbage < minGarbage || sh.garbage <= len(sh.arena)/2 {
		return
	}
	sh.compactions++
	if sh.used == 0 {
		sh.idx, sh.slots, sh.free, sh.arena, sh.garbage = map[uint64]uint32{}, nil, 0, nil, 0
		return
	}
	// Room for as much garbage again as triggers the next compaction, so
	// that the arena is not copied to grow in between.
	live := len(sh.arena) - sh.garbage
	arena := make([]byte, 0, 2*live+minGarbage)
	for i := range sh.slots {
		sl := &sh.slots[i]
		if sl.off < 0 {
			continue
		}
		off := len(arena)
		arena = append(arena, sh.arena[sl.off:sl.off+recordLen(sl)]...)
		sl.off = off
	}
	sh.arena, sh.garbage = arena, 0
}

// name returns a value name as a string, shared with earlier Loads from
// the shard's cache when it holds it: strings cannot be changed, and the
// sessions of an app mostly hold the same few names. A name has two places
// in the cache; a new one takes the first and moves what was there to the
// second.
func (sh *shard) name(b []byte) string {
	if len(b) == 0 || len(b) > maxNameCached {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	first, second := &sh.names[h%nameCache], &sh.names[(h>>16)%nameCache]
	if *first == string(b) {
		return *first
	}
	if *second == string(b) {
		return *second
	}
	*second, *first = *first, string(b)
	return *first
}

// Load returns the record under key, or seshat.ErrNoRecord.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	now := s.now().UnixNano()
	h, sh := s.locate(key)
	sh.mu.Lock()
	i := sh.findLive(h, key, now)
	if i < 0 {
		sh.mu.Unlock()
		return nil, seshat.ErrNoRecord
	}
	sl := sh.slots[i]
	var rec *seshat.Record
	var buf []byte
	if sl.size <= smallValues {
		both := new(recordWithValues)
		rec, buf = &both.rec, both.values[:0]
	} else {
		rec = new(seshat.Record)
	}
	values, err := sh.decode(sh.blob(i), shape{int(sl.n), int(sl.size)}, buf)
	var user string
	if sl.ulen > 0 {
		user = string(sh.user(i))
	}
	sh.mu.Unlock()
	if err != nil {
		return nil, err
	}
	*rec = seshat.Record{Values: values, Expires: time.Unix(0, sl.expires), UserID: user}
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
	h, sh := s.locate(key)
	sh.mu.Lock()
	i := sh.find(h, key)
	var oldUser string
	if i >= 0 {
		oldUser = sh.userOr(i, rec.UserID)
	}
	err := sh.put(h, i, key, rec.UserID, rec.Values, rec.Expires.UnixNano())
	sh.compact()
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	s.reindex(key, oldUser, rec.UserID)
	return nil
}

// Delete removes the record under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	h, sh := s.locate(key)
	sh.mu.Lock()
	i := sh.find(h, key)
	var oldUser string
	if i >= 0 {
		oldUser = sh.userOr(i, "")
		sh.remove(h, i)
		sh.compact()
	}
	sh.mu.Unlock()
	s.unindex(key, oldUser)
	return nil
}

// Merge applies ch atomically under the session's shard lock.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	now := s.now().UnixNano()
	h, sh := s.locate(key)
	sh.mu.Lock()
	i := sh.find(h, key)
	live := i >= 0 && sh.slots[i].expires > now
	if !live && !ch.Create {
		sh.mu.Unlock()
		return seshat.ErrSessionGone
	}
	var oldUser, user string
	if i >= 0 {
		oldUser = sh.userOr(i, ch.UserID)
	}
	if ch.SetUser {
		user = ch.UserID
	} else if live {
		user = oldUser
	}
	var err error
	if live {
		err = rewrite(sh, h, i, key, user, ch, ch.Expires.UnixNano())
	} else {
		err = sh.put(h, i, key, user, ch.Set, ch.Expires.UnixNano())
	}
	sh.compact()
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	// The index still lists an expired record's owner until the sweeper
	// runs: unlist it when its replacement has another owner.
	if !live || oldUser != user {
		s.reindex(key, oldUser, user)
	}
	return nil
}

// Touch moves the expiry of the record under key.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	now := s.now().UnixNano()
	h, sh := s.locate(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.findLive(h, key, now)
	if i < 0 {
		return seshat.ErrNoRecord
	}
	sh.slots[i].expires = expires.UnixNano()
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
	now := s.now().UnixNano()
	for _, k := range s.userKeys(userID) {
		h, sh := s.locate(k)
		sh.mu.Lock()
		i := sh.findLive(h, k, now)
		if i >= 0 && string(sh.user(i)) == userID {
			out = append(out, seshat.SessionInfo{Key: k, UserID: userID, Expires: time.Unix(0, sh.slots[i].expires)})
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// RevokeUser deletes every session of userID.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	n := 0
	now := s.now().UnixNano()
	for _, k := range s.userKeys(userID) {
		h, sh := s.locate(k)
		sh.mu.Lock()
		i := sh.find(h, k)
		if i >= 0 && string(sh.user(i)) == userID {
			if sh.slots[i].expires > now {
				n++
			}
			sh.remove(h, i)
			sh.compact()
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
		now := s.now().UnixNano()
		sh.mu.Lock()
		infos := make([]seshat.SessionInfo, 0, sh.used)
		for j := range sh.slots {
			if sl := &sh.slots[j]; sl.off >= 0 && sl.expires > now {
				infos = append(infos, seshat.SessionInfo{Key: string(sh.key(j)), UserID: string(sh.user(j)), Expires: time.Unix(0, sl.expires)})
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
		now := s.now().UnixNano()
		sh.mu.Lock()
		for j := range sh.slots {
			if sl := &sh.slots[j]; sl.off >= 0 && sl.expires <= now {
				k := sh.key(j)
				if sl.ulen > 0 {
					gone = append(gone, keyUser{string(k), string(sh.user(j))})
				}
				sh.remove(s.hashBytes(k), j)
				n++
			}
		}
		sh.compact()
		sh.mu.Unlock()
		for _, g := range gone {
			s.unindex(g.key, g.user)
		}
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

// appendEncode appends values to dst as uvarint(len key) key
// uvarint(len value) value...
func appendEncode(dst []byte, values map[string][]byte) ([]byte, shape) {
	n, sh := 0, shape{n: len(values)}
	for k, v := range values {
		n += entrySize(len(k), len(v))
		sh.size += len(v)
	}
	dst = slices.Grow(dst, n)
	for k, v := range values {
		dst = appendHead(dst, k, len(v))
		dst = append(dst, v...)
	}
	return dst, sh
}

var errCorrupt = errors.New("memstore: corrupt record")

// decode returns the values of a record as the caller's own: the values
// share one fresh copy of their bytes, each capped at its length so that an
// append by the caller reallocates instead of overwriting the next value,
// and the keys are new strings or ones the shard's name cache shares. The
// copy goes into buf when it has room. sh sizes the map and the copy; a
// wrong shape costs allocations, not correctness.
func (sh *shard) decode(blob []byte, sp shape, buf []byte) (map[string][]byte, error) {
	values := make(map[string][]byte, sp.n)
	if cap(buf) < sp.size {
		buf = make([]byte, 0, sp.size)
	}
	for rest := blob; len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return nil, errCorrupt
		}
		start := len(buf)
		buf = append(buf, v...)
		values[sh.name(k)] = buf[start:len(buf):len(buf)]
		rest = r
	}
	return values, nil
}

// next splits the first key and value off a record; ok is false when b
// does not start with a whole entry.
func next(b []byte) (k, v, rest []byte, ok bool) {
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
func field(b []byte) (f, rest []byte, ok bool) {
	l, n := uint64(0), 1
	if len(b) > 0 && b[0] < 0x80 {
		l = uint64(b[0])
	} else if l, n = binary.Uvarint(b); n <= 0 {
		return nil, nil, false
	}
	if uint64(len(b)-n) < l {
		return nil, nil, false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}

// appendMerge appends a new record to dst: blob without the keys ch
// deletes or sets, then ch's values. It works on the encoded form: the
// entries it keeps are copied as they are. blob may lie in dst's array
// before len(dst).
func appendMerge(dst, blob []byte, ch *seshat.Change) ([]byte, shape, error) {
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
	start := len(dst)
	dst = slices.Grow(dst, size)
	for rest := blob; len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return dst[:start], shape{}, errCorrupt
		}
		if !replaced(k, sets, ch) {
			dst = append(dst, rest[:len(rest)-len(r)]...)
			sh.n++
			sh.size += len(v)
		}
		rest = r
	}
	for _, e := range sets {
		dst = appendHead(dst, e.k, len(e.v))
		dst = append(dst, e.v...)
	}
	return dst, sh, nil
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
func replaced(k []byte, sets []setEntry, ch *seshat.Change) bool {
	if len(sets) <= smallSet {
		for _, e := range sets {
			if e.k == string(k) {
				return true
			}
		}
	} else if _, ok := ch.Set[string(k)]; ok {
		return true
	}
	for _, d := range ch.Delete {
		if d == string(k) {
			return true
		}
	}
	return false
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

// appendHead appends what precedes a value's bytes: the key's length, the
// key and the value's length.
func appendHead(dst []byte, k string, vlen int) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(k)))
	dst = append(dst, k...)
	return binary.AppendUvarint(dst, uint64(vlen))
}

var (
	_ seshat.Store     = (*Store)(nil)
	_ seshat.Merger    = (*Store)(nil)
	_ seshat.Toucher   = (*Store)(nil)
	_ seshat.UserIndex = (*Store)(nil)
	_ seshat.Iterator  = (*Store)(nil)
	_ seshat.Cleaner   = (*Store)(nil)
)
