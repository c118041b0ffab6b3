package twofactor

import (
	"net/http"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/login"
)

// KeyAuth is the session key under which Begin and Complete record how
// the login was made (see LastAuth): a dict with "user", "time" (Unix
// seconds) and "second" (the Method, "" for a password alone).
const KeyAuth = "_seshat_auth"

// Auth says how the session's current login was made.
type Auth struct {
	// UserID is the logged-in user.
	UserID string
	// Time is when the login completed, by Config.Now.
	Time time.Time
	// Second is the second factor used: MethodTOTP, MethodRecovery, or ""
	// for a user without one (password only).
	Second Method
}

// LastAuth reports how the current login of r's session was made, for
// decisions such as "this action needs a second factor within the last 10
// minutes". It returns false when the session's login did not go through
// Begin and Complete in this session: nobody logged in, a login restored
// from the remember cookie, or a login by LoginUser directly (the record
// names its user, so a later login of someone else does not inherit it).
func (m *Manager) LastAuth(r *http.Request) (Auth, bool) {
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return Auth{}, false
	}
	v, _ := s.Get(KeyAuth)
	rec, ok := v.(map[string]any)
	if !ok {
		return Auth{}, false
	}
	uid, _ := rec["user"].(string)
	cur, _ := s.Get(login.KeyUserID)
	t, okT := unixSeconds(rec["time"])
	second, _ := rec["second"].(string)
	if uid == "" || cur != uid || !okT {
		return Auth{}, false
	}
	return Auth{UserID: uid, Time: time.Unix(t, 0), Second: Method(second)}, true
}

// recordAuth stores the Auth of a login that just succeeded.
func (m *Manager) recordAuth(r *http.Request, userID string, second Method) error {
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return err
	}
	return s.Set(KeyAuth, map[string]any{"user": userID, "time": m.cfg.Now().Unix(), "second": string(second)})
}
