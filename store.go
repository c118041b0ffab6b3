package seshat

import (
	"context"
	"errors"
	"time"
)

// Store keeps sessions on a server; the cookie then carries only a signed,
// random session id. seshat hands a store a key derived from the id (the hex
// SHA-256 of it), never the id itself, so a dump of the store or a timing
// leak in it does not hand out live sessions.
//
// The interface is small and byte-oriented on purpose: a store module imports
// nothing of seshat but these types, and the optional capabilities below
// ([Merger], [Toucher], [Taker], [UserIndex], [Iterator], [Cleaner]) are found by
// type assertion.
//
// Every method takes the request's context. A store reports a missing or
// expired record as [ErrNoRecord], and a failure of its engine (connection
// refused, timeout) wrapped with [ErrStoreUnavailable]; the middleware then
// answers 503 instead of treating the user as logged out.
type Store interface {
	// Load returns the record stored under key. It must not return a record
	// whose Expires has passed, even if no cleanup has removed it yet.
	Load(ctx context.Context, key string) (*Record, error)
	// Save writes rec under key, replacing whatever was there.
	Save(ctx context.Context, key string, rec *Record) error
	// Delete removes the record under key; a missing record is not an error.
	Delete(ctx context.Context, key string) error
	// Close releases what the store holds (background cleaners, pools it
	// created). It does not close clients the caller passed in.
	Close() error
}

// Record is a session as a store keeps it.
type Record struct {
	// Values maps each session key to its value encoded as Flask's tagged
	// JSON, so SQL and Redis stores can merge single keys in the engine.
	Values map[string][]byte
	// Expires is when the store must forget the record.
	Expires time.Time
	// UserID is the owner recorded at login ("" for anonymous sessions), for
	// listing and revoking one user's sessions.
	UserID string
}

// Change is what one request did to a stored session, for [Merger].
type Change struct {
	// Set holds the keys the request set, with their new tagged JSON.
	Set map[string][]byte
	// Delete lists the keys the request removed.
	Delete []string
	// Expires is the record's new expiry.
	Expires time.Time
	// UserID, when SetUser is true, replaces the record's owner.
	UserID  string
	SetUser bool
	// Create is true for a session that has no record yet. When false and
	// the record is gone (destroyed or expired by another request), Merge
	// must fail with ErrSessionGone rather than bring it back.
	Create bool
}

// Merger is implemented by stores that apply a request's changes atomically
// in the engine (a Lua script, one SQL statement), so that concurrent
// requests on one session that change different keys all persist. Without
// it, seshat saves the whole record and the last writer wins.
type Merger interface {
	Merge(ctx context.Context, key string, ch *Change) error
}

// Toucher is implemented by stores that can move a record's expiry without
// rewriting it: the sliding expiry of a permanent session that a request did
// not change costs one small command.
type Toucher interface {
	Touch(ctx context.Context, key string, expires time.Time) error
}

// Taker is implemented by stores that can remove one value from a record
// and return it in a single atomic step, so that of several concurrent
// requests taking the same value exactly one gets it: [Session.Take], and
// through it package flash, which then shows each message once.
type Taker interface {
	// Take deletes name from the record under key and returns the tagged
	// JSON it held. ok is false, with a nil error, when the record is
	// missing or expired or holds no name (another request took it). Take
	// leaves the record's expiry and its other values alone.
	Take(ctx context.Context, key, name string) (value []byte, ok bool, err error)
}

// SessionInfo describes a stored session without its values.
type SessionInfo struct {
	Key     string // the store key (a hash of the id: safe to show and to revoke by)
	UserID  string
	Expires time.Time
}

// UserIndex is implemented by stores that keep an index of sessions by
// owner, so "log out everywhere" never scans every session.
type UserIndex interface {
	ListByUser(ctx context.Context, userID string) ([]SessionInfo, error)
	// RevokeUser deletes every session of userID and returns how many.
	RevokeUser(ctx context.Context, userID string) (int, error)
}

// Iterator is implemented by stores that can walk every live session.
type Iterator interface {
	Iterate(ctx context.Context, fn func(SessionInfo) error) error
}

// Cleaner is implemented by stores that need expired records removed by
// someone (SQL tables); engines with native expiry (Redis) need not.
type Cleaner interface {
	DeleteExpired(ctx context.Context) (int, error)
}

// IDScheme decides, in store mode, what the cookie carries and which store
// key a session id maps to. The default scheme (nil Config.IDScheme) issues
// 256-bit random ids, signs them with the manager's keys, and gives stores
// the hex SHA-256 of the id. Package flasksession provides Flask-Session's
// scheme (uuid4 ids, optionally signed, raw keys) for sharing a store with a
// Flask app.
type IDScheme interface {
	// New returns a fresh random id.
	New() string
	// Encode returns the cookie value for id; permanent may be recorded in
	// it so that an untouched permanent session can be refreshed without a
	// store read.
	Encode(id string, permanent bool) string
	// Decode verifies a cookie value and returns the id and the permanent
	// flag. Anything it accepts reaches the store only through Key.
	Decode(value string) (id string, permanent bool, err error)
	// Key returns the store key for id.
	Key(id string) string
}

var (
	// ErrNoRecord is what a Store returns for a missing or expired record.
	ErrNoRecord = errors.New("seshat: no such session record")
	// ErrSessionGone is what a Merger returns when a non-Create change meets
	// a record that no longer exists: another request destroyed the session,
	// and this one must not resurrect it.
	ErrSessionGone = errors.New("seshat: session record was deleted by another request")
	// ErrCorruptRecord is what a Store wraps when a record exists but cannot
	// be read (missing metadata, undecodable data). The middleware then
	// serves the request with a fresh session and logs a warning, instead of
	// answering 503 until the record expires.
	ErrCorruptRecord = errors.New("seshat: corrupt session record")
	// ErrStoreUnavailable marks a failure of the engine behind a store
	// (connection refused, timeout). The middleware answers it with 503 and
	// never falls back to a fresh session that would log the user out.
	ErrStoreUnavailable = errors.New("seshat: session store unavailable")
)

func isUnavailable(err error) bool { return errors.Is(err, ErrStoreUnavailable) }
