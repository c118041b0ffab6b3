package seshat

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/seshat-go/seshat/taggedjson"
)

// permanentKey is where Flask keeps session.permanent inside the session dict.
const permanentKey = "_permanent"

// Op is the kind of change a request made to one key.
type Op uint8

const (
	// OpSet means the key was set (possibly to the value it had).
	OpSet Op = iota + 1
	// OpDelete means the key was removed.
	OpDelete
)

// Session is one client's session during one request: Flask's `session`
// object. Values follow Flask's JSON data model (see package taggedjson);
// [Session.Set] converts Go values into it and [Get] converts back.
//
// Nothing is read from the cookie until the first method call, so a handler
// that never touches the session costs no cryptography. Every read marks the
// session accessed (the response then gets "Vary: Cookie"); every write marks
// it modified (the cookie is re-issued). In-place changes to a nested value
// returned by Get are not detected: call [Session.MarkModified], as Flask
// requires `session.modified = True`.
//
// A Session is safe for concurrent use, so a websocket goroutine may share it
// with its handler.
type Session struct {
	mu      sync.Mutex
	m       *Manager
	ctx     context.Context // the request's, for store calls
	cookies []string        // the request's Cookie header lines, read lazily
	// Store mode: the session id ("" until one is minted) and the owner.
	id     string
	userID string
	// storeErr is a failure of the store while loading: the request must
	// fail closed rather than run as a fresh session.
	storeErr error
	values   map[string]any
	changes  changeSet
	loadErr  error
	// locals are request-scoped values that are never saved.
	locals map[any]any
	// hdr backs the header values the save adds (see headerSlots).
	hdr headerSlots
	// Store mode: the store key of id, and the cookie the request sent.
	key  storeKey
	sent sentCookie

	// The flags come last, together, so that they pack into a few words
	// (the Session is allocated on every request).
	tls    bool
	loaded bool
	// Store mode: what the cookie said and what the request asked for.
	permanentHint bool // the cookie says the session is permanent
	userSet       bool
	renew         bool
	graceful      bool // renewal timeout: keep the old record as a forward
	destroyed     bool
	accessed      bool
	modified      bool
	cleared       bool
	// committed is set once the response header is out; later changes
	// cannot reach the client.
	committed bool
	// fresh is true when no valid cookie was found.
	fresh bool
	// lateChange records that a change happened after commit (reported once).
	lateChange bool
}

// load reads the cookie on first use. Callers hold s.mu.
func (s *Session) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	if s.m.settings.Store != nil {
		s.m.loadStored(s)
	} else {
		s.values, s.loadErr = s.m.loadCookie(s.cookies)
	}
	s.m.checkLoaded(s)
	if s.values == nil {
		s.values = make(map[string]any)
		s.fresh = true
	}
}

// touch loads the session and marks it accessed. Callers hold s.mu.
func (s *Session) touch() {
	s.load()
	s.accessed = true
}

// change records a write to key. Callers hold s.mu.
func (s *Session) change(key string, op Op) {
	s.modified = true
	s.changes.set(key, op)
	s.noteLate()
}

func (s *Session) noteLate() {
	if s.committed && !s.lateChange {
		s.lateChange = true
		s.m.settings.Logger.Error("seshat: session changed after the response header was written; the change is lost (change the session before writing the response)")
	}
}

// Get returns the value stored under key and whether it was there. The value
// is in Flask's data model: int64, float64, string, bool, nil, []any,
// map[string]any, taggedjson.Tuple, []byte, taggedjson.Markup,
// taggedjson.UUID, time.Time or *big.Int. Use [Get] for a typed value.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	v, ok := s.values[key]
	return v, ok
}

// Has reports whether key is in the session (Python's `key in session`).
func (s *Session) Has(key string) bool {
	_, ok := s.Get(key)
	return ok
}

// Set stores v under key. v is converted to Flask's data model first
// (taggedjson.Normalize): integers, floats, strings, bools, nil, slices,
// maps with string or integer keys, []byte, time.Time, the taggedjson types,
// and structs through their JSON form. A value with no JSON form gives an
// error wrapping ErrUnsupportedValue and leaves the session unchanged. A Set
// after the response header was written returns ErrHeadersWritten.
func (s *Session) Set(key string, v any) error {
	nv, err := taggedjson.Normalize(v)
	if err != nil {
		return &valueError{key: key, err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		s.noteLate()
		return ErrHeadersWritten
	}
	s.touch()
	s.values[key] = nv
	s.change(key, OpSet)
	return nil
}

// Delete removes key. Deleting a missing key changes nothing (and does not
// mark the session modified), like Flask's session.pop(key, None).
func (s *Session) Delete(key string) {
	s.Pop(key)
}

// Pop removes key and returns the value it held.
func (s *Session) Pop(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	v, ok := s.values[key]
	if ok {
		delete(s.values, key)
		s.change(key, OpDelete)
	}
	return v, ok
}

// Take removes key and returns the value it held, like [Session.Pop], but
// exactly once across concurrent requests: with a store that implements
// [Taker] the value is taken from the stored record at once, atomically, so
// of two requests sent with the same cookie only one gets it (package flash
// shows each message once this way). It costs one store round trip when
// the session holds key (none when it does not), and takes the place of
// the write Pop would leave to the end of the request.
// In cookie mode, with another store, or for a key this request itself set,
// it is Pop (concurrent requests may then both get the value).
//
// A store failure returns an error wrapping [ErrStoreUnavailable] and
// leaves both the session and the record as they were.
func (s *Session) Take(key string) (any, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	taker, ok := s.m.settings.Store.(Taker)
	if _, pending := s.changes.get(key); !ok || s.id == "" || pending || s.storeErr != nil {
		v, ok := s.values[key]
		if ok {
			delete(s.values, key)
			s.change(key, OpDelete)
		}
		return v, ok, nil
	}
	if _, present := s.values[key]; !present {
		// Nothing to take in what this request loaded (a value another
		// request adds meanwhile waits for the next one): no round trip.
		return nil, false, nil
	}
	raw, found, err := taker.Take(hideSession{s.ctx}, s.storeKey(), key)
	if err != nil {
		return nil, false, storeFailure("take", err)
	}
	// The store no longer holds key; the session forgets it without
	// recording a change (there is nothing left to write).
	delete(s.values, key)
	if !found {
		return nil, false, nil
	}
	v, err := taggedjson.Unmarshal(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w: taken value %s: %w", ErrInvalidCookie, ErrCorruptRecord, quoteKey(key), err)
	}
	return v, true, nil
}

// Clear removes every key. Like Flask's session.clear(), it marks the session
// modified even when it was empty, so the response deletes the cookie.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	for k := range s.values {
		s.changes.set(k, OpDelete)
	}
	clear(s.values)
	s.cleared = true
	s.modified = true
	s.noteLate()
}

// Keys returns the session's keys in sorted order (the order Flask writes
// them). Flask's own bookkeeping keys, such as "_permanent", are included.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	keys := make([]string, 0, len(s.values))
	for k := range s.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Len returns the number of keys.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	return len(s.values)
}

// Permanent reports whether the session is permanent: its cookie carries
// Expires (now + Lifetime) and is refreshed on each request.
func (s *Session) Permanent() bool {
	v, _ := s.Get(permanentKey)
	return truthy(v)
}

// SetPermanent sets session.permanent. Like Flask, it stores "_permanent" in
// the session and marks it modified.
func (s *Session) SetPermanent(p bool) {
	_ = s.Set(permanentKey, p)
}

// Modified reports whether this request changed the session.
func (s *Session) Modified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modified
}

// MarkModified forces the cookie to be re-issued, after an in-place change of
// a nested value (Flask's `session.modified = True`). With a store, every key
// is saved again.
func (s *Session) MarkModified() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	s.modified = true
	for k := range s.values {
		s.changes.set(k, OpSet)
	}
	s.noteLate()
}

// Accessed reports whether this request read or wrote the session.
func (s *Session) Accessed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessed
}

// Changes returns the keys this request changed and how, for merging saves
// in a server-side store. A key set and then deleted reports OpDelete.
func (s *Session) Changes() map[string]Op {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Op, s.changes.len())
	for k, op := range s.changes.all() {
		out[k] = op
	}
	return out
}

// Cleared reports whether Clear was called during this request.
func (s *Session) Cleared() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleared
}

// IsNew reports whether the request carried no valid session cookie. Like
// every method whose answer depends on the cookie, it marks the session
// accessed, so the response varies on Cookie.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	return s.fresh
}

// LoadError tells why the request's session cookie was not accepted (bad
// signature, expired, malformed); nil when there was no cookie or it was
// valid. The session is then fresh and empty. The error wraps
// ErrInvalidCookie and the signing sentinels, and never contains the cookie
// value: it is safe to log. It marks the session accessed.
func (s *Session) LoadError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	return s.loadErr
}

// Values returns a shallow copy of the session's values.
func (s *Session) Values() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	out := make(map[string]any, len(s.values))
	for k, v := range s.values {
		out[k] = v
	}
	return out
}

// Destroy ends the session (logout): it empties it, deletes the cookie at
// the end of the request and, with a store, deletes the record, so a copy
// of the cookie replayed later finds nothing.
func (s *Session) Destroy() {
	s.Clear()
	s.mu.Lock()
	s.destroyed = true
	s.mu.Unlock()
}

// Renew gives the session a new id at the end of the request and deletes
// the record under the old one, keeping the values: call it on login and on
// every privilege change, against session fixation. In cookie mode, where
// there is no id, it re-issues the cookie.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	s.renew = true
	s.modified = true
	s.noteLate()
}

// SetUserID records the session's owner, so a store with a [UserIndex] can
// list and revoke a user's sessions. Package login calls it; "" clears it.
func (s *Session) SetUserID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	s.userID, s.userSet = id, true
	s.modified = true
	s.noteLate()
}

// UserID returns the owner recorded with SetUserID (store mode), or "".
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	return s.userID
}

// Err reports a failure of the session store while loading this session.
// The middleware answers such a request with 503 when its header goes out;
// a handler about to act on an apparently empty session (for instance, to
// treat the user as logged out) can check Err first. It marks the session
// accessed.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch()
	return s.storeErr
}

// Local returns the request-scoped value stored under key with SetLocal,
// or nil. Locals live as long as this Session object — one request — and
// are never saved: packages use them for per-request caches (package flash
// keeps the messages it popped, so a layout and a page can both read them).
// Use an unexported key type, as with context values. Reading a local does
// not load or access the session.
func (s *Session) Local(key any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locals[key]
}

// SetLocal stores a request-scoped value under key; see [Session.Local].
func (s *Session) SetLocal(key, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locals == nil {
		s.locals = make(map[any]any)
	}
	s.locals[key] = v
}

// snapshot returns what a commit needs, under the lock, and marks the session
// committed so later changes are reported.
func (s *Session) snapshot() (values map[string]any, loaded, accessed, modified bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = true
	return s.values, s.loaded, s.accessed, s.modified
}

type valueError struct {
	key string
	err error
}

func (e *valueError) Error() string {
	return "seshat: set " + quoteKey(e.key) + ": " + e.err.Error()
}

func (e *valueError) Unwrap() []error { return []error{ErrUnsupportedValue, e.err} }

func quoteKey(k string) string {
	if len(k) > 64 {
		k = k[:64] + "…"
	}
	return "\"" + k + "\""
}
