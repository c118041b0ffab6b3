package twofactor

import (
	"context"
	"slices"
	"sync"
	"time"
)

// State is one user's second-factor record. Stores keep it as they like
// (its JSON form fits one column); only the Manager interprets it.
type State struct {
	// Secret is the confirmed TOTP secret: base32, or "enc1:" and its
	// AES-GCM encryption with Config.SecretKeys. "" means the user has no
	// second factor. It is a credential: it stays server-side, never in a
	// session (MF-06).
	Secret string `json:"secret,omitempty"`
	// PendingSecret is an enrolment awaiting its first code (stored like
	// Secret); it replaces
	// Secret only once ConfirmEnrolment sees a valid code for it.
	PendingSecret string `json:"pending_secret,omitempty"`
	// LastStep is the last accepted TOTP time step (Unix time / 30); codes
	// of this step or earlier are refused as replays.
	LastStep int64 `json:"last_step,omitempty"`
	// Recovery holds the hashes of the unused recovery codes (hex
	// SHA-256, see hashRecovery); a used code's hash is removed.
	Recovery []string `json:"recovery,omitempty"`
	// Failures counts wrong codes since the last success or lockout.
	Failures int `json:"failures,omitempty"`
	// LockedUntil refuses every code before it.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// Enrolled reports whether the state has a confirmed second factor.
func (s *State) Enrolled() bool { return s.Secret != "" }

// Store keeps each user's [State]. Its Update is the only write, so an
// implementation needs one transaction (SQL: BEGIN IMMEDIATE or SELECT …
// FOR UPDATE, then UPDATE) or one lock; that atomicity is what makes a
// code usable once even when two requests race with it, and what keeps
// the failure count exact.
type Store interface {
	// Get returns the user's state; a user without one gets the zero
	// State and a nil error.
	Get(ctx context.Context, userID string) (State, error)
	// Update applies fn to the user's current state (the zero State when
	// there is none) and saves the result, atomically with respect to
	// every other Update of the same user. When fn returns an error,
	// nothing is saved and Update returns that error (wrapped or not). A
	// result equal to the zero State may be deleted. fn must not call the
	// Store (MemoryStore would deadlock, an SQL store could too).
	Update(ctx context.Context, userID string, fn func(*State) error) error
}

// MemoryStore is a [Store] in process memory, for tests, demos and
// single-process apps that can afford to forget enrolments on restart.
type MemoryStore struct {
	mu    sync.Mutex
	users map[string]State
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{users: make(map[string]State)}
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, userID string) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return clone(m.users[userID]), nil
}

// Update implements Store.
func (m *MemoryStore) Update(_ context.Context, userID string, fn func(*State) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := clone(m.users[userID])
	if err := fn(&st); err != nil {
		return err
	}
	if isZero(st) {
		delete(m.users, userID)
	} else {
		m.users[userID] = st
	}
	return nil
}

// clone copies st so that callers never share its slice with the store.
func clone(st State) State {
	st.Recovery = slices.Clone(st.Recovery)
	return st
}

func isZero(st State) bool {
	return st.Secret == "" && st.PendingSecret == "" && st.LastStep == 0 &&
		len(st.Recovery) == 0 && st.Failures == 0 && st.LockedUntil.IsZero()
}
