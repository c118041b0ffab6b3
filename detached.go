package seshat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrNoCookieAfterUpgrade is returned by [Detached.Save] for a change that
// only a new Set-Cookie header could carry, which nothing can send once the
// request that loaded the session is over (a websocket after its upgrade):
// any change in cookie mode, a change to a session that had no record yet,
// and [Session.Renew]. The change stays in the Detached copy.
var ErrNoCookieAfterUpgrade = errors.New("seshat: the change needs a new session cookie, which cannot be sent after the response header (use a Store to save sessions outside a request)")

// Detached is a session used after the request that loaded it: by a
// websocket connection's goroutines, which outlive the handshake, while
// ordinary HTTP requests of the same client keep using the same session
// through [Manager.Handler].
//
// The embedded [Session] has every method of a request's session and is
// safe for concurrent use; put it in a context with [NewContext] for code
// that calls [FromContext]. Nothing is saved by itself: [Detached.Save]
// writes the changes made since the last Save, and [Detached.Reload] reads
// what concurrent requests saved meanwhile.
//
// With a [Store], Save merges the changes into the record exactly as the
// middleware saves a request ([Merger]: only the keys this copy set or
// deleted, atomically in the engine), so a websocket and concurrent HTTP
// requests that change different keys never lose each other's updates. This
// is Flask-SocketIO's manage_session=False over Flask-Session, where event
// handlers and routes share the server-side session, minus its whole-record
// rewrite.
//
// In cookie mode the session lives in the client's cookie, which nothing can
// rewrite after the upgrade: the Detached session is then the connection's
// private copy, and Save reports [ErrNoCookieAfterUpgrade]. This is what
// Flask-SocketIO does with manage_session=True (its default): the socket
// keeps a server-side copy of the session that HTTP requests never see.
type Detached struct {
	*Session
}

// Detach loads the session of r (a websocket handshake) for use after the
// request. It reads r's cookie and, with a store, the record, eagerly and
// once; the Detached session is separate from the request's own session
// under [Manager.Handler], so make handshake-time changes on one of them only.
// A missing or invalid cookie gives an empty session (see
// [Session.LoadError]); a store failure is an error wrapping
// [ErrStoreUnavailable].
//
// Load the page that opens the websocket through [Manager.Handler] first: a
// session with no record yet has no id the client knows, so its changes
// cannot be saved from a Detached copy.
//
// Check the handshake's Origin before trusting the session (coder/websocket's
// Accept and gorilla's Upgrader do by default): browsers send the cookie with
// a websocket handshake from any page they allow to send it, and a socket is
// not protected by CSRF tokens. SameSite=Lax, seshat's default, keeps the
// cookie off cross-site handshakes, not off sibling subdomains.
func (m *Manager) Detach(ctx context.Context, r *http.Request) (*Detached, error) {
	s, err := m.Load(ctx, r)
	if err != nil {
		return nil, err
	}
	return &Detached{Session: s}, nil
}

// Save persists the changes made since Detach or the last successful Save,
// and slides the record's expiry as a request's save does (Config.Lifetime,
// cut short by IdleTimeout and AbsoluteTimeout). It does nothing when
// nothing changed, so a socket that only listens does not keep an idle
// session alive. With a [Merger] store only the changed keys are written.
// Without one Save reads the record, applies this copy's changes and writes
// it back, so the copy never writes back stale values; a request saving in
// between still loses, as requests do to each other without a Merger. A
// session emptied or destroyed here has its record deleted (the client's
// cookie then names no session).
//
// Save returns [ErrNoCookieAfterUpgrade] in cookie mode, for a session that
// has no record, and after [Session.Renew]; an error wrapping
// [ErrSessionGone] when another request destroyed the session meanwhile
// (logout: close the connection); and store failures wrapping
// [ErrStoreUnavailable]. On error the changes are kept for a retry.
func (d *Detached) Save(ctx context.Context) error {
	s, m := d.Session, d.Session.m
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.modified && !s.destroyed {
		return nil
	}
	if m.settings.Store == nil || s.id == "" || s.renew {
		return ErrNoCookieAfterUpgrade
	}
	ctx = hideSession{ctx}
	s.ctx = ctx
	if err := m.prepareSave(s); err != nil { // the configured limits' reserved keys
		return err
	}
	key := m.ids.Key(s.id)
	if len(s.values) == 0 {
		if err := m.settings.Store.Delete(ctx, key); err != nil {
			return storeFailure("delete", err)
		}
	} else if _, ok := m.settings.Store.(Merger); !ok {
		if err := d.saveUnmerged(ctx, key); err != nil {
			return err
		}
	} else {
		gone, err := m.writeChanges(s, key, m.settings.expiresAt(s.values, m.settings.Now()))
		if err != nil {
			return err
		}
		if gone {
			return fmt.Errorf("seshat: detached save: %w", ErrSessionGone)
		}
	}
	s.changes.reset()
	s.modified, s.cleared, s.userSet, s.destroyed = false, false, false, false
	return nil
}

// Reload reads the record again, so the Detached copy sees what concurrent
// requests saved; changes not yet saved stay applied on top. It returns an
// error wrapping [ErrSessionGone] when the record no longer exists (logout,
// revocation, expiry) or the session is past Config.AbsoluteTimeout or its
// owner's Config.Generation (the error then wraps [ErrSessionTimeout] or
// [ErrSessionRevoked] too): close the connection, the Detached session is
// over. Store failures wrap [ErrStoreUnavailable]. In cookie mode, and for a
// session with no record, there is nothing to read and Reload returns nil.
func (d *Detached) Reload(ctx context.Context) error {
	s, m := d.Session, d.Session.m
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.settings.Store == nil || s.id == "" {
		return nil
	}
	ctx = hideSession{ctx}
	values, rec, err := d.fetch(ctx)
	if err != nil {
		return err
	}
	s.values = values
	if !s.userSet {
		s.userID = rec.UserID
	}
	if m.settings.limitsOn() {
		// The connection may outlive the session's absolute timeout or its
		// owner's generation: check them as a request's load would.
		s.ctx = ctx
		m.checkLoaded(s)
		if s.storeErr != nil {
			err := s.storeErr
			s.values, s.storeErr = values, nil
			return err
		}
		if s.values == nil {
			s.values = make(map[string]any)
			return fmt.Errorf("seshat: detached reload: %w: %w", ErrSessionGone, s.loadErr)
		}
	}
	return nil
}

// fetch reads the record and returns its values with this copy's unsaved
// changes applied on top. Callers hold s.mu.
func (d *Detached) fetch(ctx context.Context) (map[string]any, *Record, error) {
	s, m := d.Session, d.Session.m
	rec, err := m.settings.Store.Load(ctx, m.ids.Key(s.id))
	if errors.Is(err, ErrNoRecord) {
		return nil, nil, fmt.Errorf("seshat: detached session: %w", ErrSessionGone)
	}
	if err != nil {
		return nil, nil, storeFailure("load", err)
	}
	values, err := decodeRecord(rec)
	if err != nil {
		return nil, nil, err
	}
	if s.cleared {
		clear(values) // keys saved by others since the Clear go too
	}
	for k, op := range s.changes.all() {
		if v, ok := s.values[k]; ok && op == OpSet {
			values[k] = v
		} else {
			delete(values, k)
		}
	}
	return values, rec, nil
}

// saveUnmerged saves with a store that cannot merge: read the record, apply
// this copy's changes, write it back. Requests writing between the read and
// the write still lose to it, as they do to each other without a Merger,
// but a long-lived copy does not write back the values it loaded minutes
// ago. Callers hold s.mu.
func (d *Detached) saveUnmerged(ctx context.Context, key string) error {
	s, m := d.Session, d.Session.m
	values, rec, err := d.fetch(ctx)
	if err != nil {
		return err
	}
	raw, err := encodeValues(values, m.settings.MaxRecordSize)
	if err != nil {
		return err
	}
	user := rec.UserID
	if s.userSet {
		user = s.userID
	}
	if err := m.settings.Store.Save(ctx, key, &Record{Values: raw, Expires: m.settings.expiresAt(values, m.settings.Now()), UserID: user}); err != nil {
		return storeFailure("save", err)
	}
	s.values, s.userID = values, user
	return nil
}

// hideSession is the context Save and Reload pass to the store (and to
// Config.Generation): the caller's, minus any session in it. They hold the
// session's lock, so a store that logged with ctx through package
// sessionlog, which reads the session from ctx, would wait on that lock
// forever; without a session in ctx the line is simply not tagged.
type hideSession struct{ context.Context }

func (h hideSession) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return nil
	}
	return h.Context.Value(key)
}
