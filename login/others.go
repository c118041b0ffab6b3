package login

import (
	"errors"
	"net/http"

	"github.com/seshat-go/seshat"
)

// ErrNotLoggedIn is returned by LogoutOthers for an anonymous request.
var ErrNotLoggedIn = errors.New("login: nobody is logged in")

// LogoutOthers ends every session of the current user except this one —
// after a password change (ASVS 5.0 7.4.3, Django's
// update_session_auth_hash): it revokes the user's remember tokens
// (this browser's remember cookie is deleted too), deletes the user's other
// sessions through the store's per-user index when sessions is not nil, and
// renews this session (a new id; its values, login included, stay). It
// returns how many stored sessions it deleted, this one's old record
// included.
//
// In cookie mode there is no index: set seshat.Config.Generation and bump
// the user's generation before calling LogoutOthers; this session is then
// re-stamped with the new generation and every other copy is refused.
func (m *Manager) LogoutOthers(w http.ResponseWriter, r *http.Request, sessions seshat.Store) (int, error) {
	_ = w
	st, s, err := m.state(r)
	if err != nil {
		return 0, err
	}
	user := m.CurrentUser(r)
	if !st.authed {
		if st.err != nil {
			return 0, st.err
		}
		return 0, ErrNotLoggedIn
	}
	id := user.ID()
	if err := m.RevokeRemembered(r.Context(), id); err != nil {
		// Signed remember tokens die with the generation bump the
		// caller made; only a mode with no revocation at all fails.
		if !errors.Is(err, ErrNotRevocable) || m.cfg.Generation == nil {
			return 0, err
		}
	}
	n, err := revokeSessions(r.Context(), sessions, id)
	if err != nil {
		return n, err
	}
	if m.requestCookie(r) != "" {
		_ = s.Set(KeyRemember, "clear")
		s.Delete(KeyRememberSeconds)
		st.clear = true
	}
	s.Renew()
	s.SetUserID(id) // index the new record; stamp the new generation
	return n, nil
}
