package twofactor

import (
	"errors"
	"net/http"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/login"
)

// Session keys of the pending login. All but KeyStarted are
// Flask-Security-Too's (5.1, tf_plugin.py: tf_login stores tf_user_id and
// tf_remember_login, twofactor.py's tf_login sets tf_state "ready",
// tf_clean_session removes them all), so a Flask app using Flask-Security
// and sharing the session sees the same half-logged-in state. Nothing here
// is a secret: the TOTP secret never enters the session (MF-06).
const (
	// KeyUserID holds the id of the user who passed the password step.
	// Flask-Security stores the user's fs_uniquifier there; share pending
	// logins with it only if the application's user id is that value.
	KeyUserID = "tf_user_id"
	// KeyState holds StateReady.
	KeyState = "tf_state"
	// KeyPrimaryMethod holds the method, MethodTOTP.
	KeyPrimaryMethod = "tf_primary_method"
	// KeyRemember is true when the login asked to be remembered; it is set
	// only then, as Flask-Security does.
	KeyRemember = "tf_remember_login"
	// KeyStarted is seshat's own: the Unix time the password step
	// succeeded, for Config.PendingTTL (Flask-Security has no such limit).
	KeyStarted = "tf_started"
)

// StateReady is Flask-Security-Too's tf_state for "password verified,
// waiting for the code of an enrolled method".
const StateReady = "ready"

// flaskSecurityKeys is Flask-Security-Too 5.1's tf_clean_session list plus
// KeyStarted: everything Cancel removes.
var flaskSecurityKeys = [...]string{KeyState, KeyUserID, KeyPrimaryMethod, KeyRemember, "tf_totp_secret", "tf_select", KeyStarted}

// Begin is called once the password is verified. For a user without a
// second factor it logs the user in at once (login.LoginUser, recorded for
// LastAuth) and returns false. For an enrolled user it renews the session
// (against fixation), rotates the CSRF secret (csrf.Rotate), records the
// pending login in the tf_ keys and returns true: redirect to
// the page that asks for the code, whose POST calls Complete. Nobody is
// logged in by a pending login, so login.Manager.Required keeps refusing
// the session until Complete succeeds.
func (m *Manager) Begin(w http.ResponseWriter, r *http.Request, user login.User, remember bool) (pending bool, err error) {
	if user == nil || user.ID() == "" {
		return false, login.ErrNoID
	}
	st, err := m.cfg.Store.Get(r.Context(), user.ID())
	if err != nil {
		return false, wrapStore("begin", err)
	}
	if !st.Enrolled() {
		if err := m.cfg.Login.LoginUser(w, r, user, login.LoginOptions{Remember: remember}); err != nil {
			return false, err
		}
		return false, m.recordAuth(r, user.ID(), "")
	}
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return false, err
	}
	if err := s.Err(); err != nil {
		return false, err
	}
	clearPending(s)
	s.Renew()
	// A change of identity, as login's LoginUser treats it: forms rendered
	// before the password step stop working.
	if err := csrf.Rotate(r); err != nil {
		return false, err
	}
	if err := s.Set(KeyUserID, user.ID()); err != nil {
		return false, err
	}
	_ = s.Set(KeyState, StateReady)
	_ = s.Set(KeyPrimaryMethod, string(MethodTOTP))
	_ = s.Set(KeyStarted, m.cfg.Now().Unix())
	if remember {
		_ = s.Set(KeyRemember, true)
	}
	return true, nil
}

// Pending returns the id of the user whose login waits for a second factor
// in r's session. It returns ErrNotPending when there is none, and
// ErrExpired when it is older than Config.PendingTTL; a malformed or
// expired state is cleared.
func (m *Manager) Pending(r *http.Request) (userID string, err error) {
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return "", err
	}
	id, _ := s.Get(KeyUserID)
	state, _ := s.Get(KeyState)
	started, _ := s.Get(KeyStarted)
	uid, ok := id.(string)
	if !ok || uid == "" || state != StateReady {
		clearPending(s)
		return "", ErrNotPending
	}
	t, ok := unixSeconds(started)
	now := m.cfg.Now().Unix()
	if !ok || t > now+60 {
		// Begun by an app without a start time, or from the future: no
		// limit can be enforced, so it is not trusted.
		clearPending(s)
		return "", ErrNotPending
	}
	if now-t > int64(m.cfg.PendingTTL.Seconds()) {
		clearPending(s)
		return "", ErrExpired
	}
	return uid, nil
}

// Complete checks code (a TOTP code or a recovery code, see Verify) for
// the pending login of r's session. On success it clears the tf_ keys and
// logs the user in with login.LoginUser (a new session id; remembered if
// Begin was asked to), records the login for LastAuth, and returns the
// method the code was. A wrong or
// replayed code leaves the login pending, so the user can try again;
// ErrLocked (too many failures), ErrExpired, ErrNotPending and a user who
// is gone or no longer enrolled clear it: the password must be entered
// again.
func (m *Manager) Complete(w http.ResponseWriter, r *http.Request, code string) (Method, error) {
	id, err := m.Pending(r)
	if err != nil {
		return "", err
	}
	s, _ := seshat.Lookup(r.Context())
	method, err := m.Verify(r.Context(), id, code)
	switch {
	case errors.Is(err, ErrLocked), errors.Is(err, ErrNotEnrolled):
		clearPending(s)
		return method, err
	case err != nil:
		return method, err
	}
	remember, _ := s.Get(KeyRemember)
	clearPending(s)
	user, err := m.cfg.LoadUser(r.Context(), id)
	if err != nil {
		return method, err
	}
	if user == nil || user.ID() != id {
		return method, ErrNotPending
	}
	if err := m.cfg.Login.LoginUser(w, r, user, login.LoginOptions{Remember: remember == true}); err != nil {
		return method, err
	}
	return method, m.recordAuth(r, id, method)
}

// Cancel abandons r's pending login, if any (a "cancel" button, and
// logout: Flask-Security clears these keys on logout too).
func (m *Manager) Cancel(r *http.Request) {
	if s, err := seshat.Lookup(r.Context()); err == nil {
		clearPending(s)
	}
}

func clearPending(s *seshat.Session) {
	for _, k := range flaskSecurityKeys {
		if s.Has(k) {
			s.Delete(k)
		}
	}
}

func unixSeconds(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	}
	return 0, false
}
