package login

import (
	"net/http"
	"slices"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
)

// alwaysKept are session keys that are not security state and that the
// login flow itself needs after LoginUser: the permanent flag, pending
// flashes (the "please log in" message), the post-login destination (it
// still goes through SafeNext), and seshat's creation time (Renew restarts
// it anyway).
var alwaysKept = []string{"_permanent", "_flashes", KeyNext, seshat.CreatedKey}

// dropPreLogin deletes, when Config.KeepOnLogin is set, every key the
// anonymous session held that is not listed there: a flag written before
// authentication ("mfa_ok", "role") must not become part of the
// authenticated session, whoever wrote it.
func (m *Manager) dropPreLogin(s *seshat.Session) {
	if m.cfg.KeepOnLogin == nil {
		return
	}
	for _, k := range s.Keys() {
		if !slices.Contains(alwaysKept, k) && !slices.Contains(m.cfg.KeepOnLogin, k) {
			s.Delete(k)
		}
	}
}

// rotateCSRF gives the session a new CSRF secret at every change of
// identity (CS-03), so a token an attacker obtained in the anonymous
// session, or a form rendered for the previous user, is refused afterwards.
func rotateCSRF(r *http.Request) {
	_ = csrf.Rotate(r) // fails only without a session, checked by the caller
}
