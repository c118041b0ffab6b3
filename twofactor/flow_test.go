package twofactor_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/twofactor"
)

// modes runs f in cookie mode and in store mode.
func modes(t *testing.T, f func(t *testing.T, storeMode bool)) {
	t.Run("cookie", func(t *testing.T) { f(t, false) })
	t.Run("store", func(t *testing.T) { f(t, true) })
}

// TestPendingNeverPassesRequired (MF-01): after the password step the
// session is pending, not logged in: Required redirects (or answers 401)
// until the code is in, and then lets the user through.
func TestPendingNeverPassesRequired(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		for _, loginURL := range []string{"/login", ""} {
			s := newServer(t, storeMode, loginURL)
			secret, _ := s.enrol(t, "alice")
			c := s.client(t)
			if r := s.login(t, c, "alice", false); r.body != "pending=true" {
				t.Fatalf("login: %q", r.body)
			}
			sess := s.session(t, c)
			if _, ok := sess["_user_id"]; ok {
				t.Fatalf("pending session carries _user_id: %v", sess)
			}
			r := s.do(t, c, "GET", "/account", nil)
			switch loginURL {
			case "":
				if r.status != http.StatusUnauthorized {
					t.Fatalf("pending user on Required: %d %q", r.status, r.body)
				}
			default:
				if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
					t.Fatalf("pending user on Required: %d %q", r.status, r.header.Get("Location"))
				}
			}
			if r, err := s.submit(t, c, s.code(t, secret)); err != nil || r.body != "ok authenticator" {
				t.Fatalf("complete: %q %v", r.body, err)
			}
			if r := s.do(t, c, "GET", "/account", nil); r.status != http.StatusOK || r.body != "account of alice" {
				t.Fatalf("after the code: %d %q", r.status, r.body)
			}
		}
	})
}

// TestCompleteClearsState: success clears every tf_ key, logs in with a
// new session id (store mode), and carries "remember me" over.
func TestCompleteClearsState(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		s := newServer(t, storeMode, "/login")
		secret, _ := s.enrol(t, "alice")
		c := s.client(t)
		s.do(t, c, "POST", "/csrf-seed", nil)
		s.login(t, c, "alice", true)
		sess := s.session(t, c)
		if _, ok := sess["csrf_token"]; ok {
			t.Fatal("CSRF secret not rotated by Begin")
		}
		want := []string{twofactor.KeyPrimaryMethod, twofactor.KeyRemember, twofactor.KeyStarted, twofactor.KeyState, twofactor.KeyUserID}
		got := tfKeys(sess)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("pending keys %v, want %v", got, want)
		}
		if sess["tf_user_id"] != "alice" || sess["tf_state"] != "ready" || sess["tf_primary_method"] != "authenticator" || sess["tf_remember_login"] != true {
			t.Fatalf("pending session %v", sess)
		}
		if _, ok := sess["tf_started"].(float64); !ok { // JSON number
			t.Fatalf("tf_started %T", sess["tf_started"])
		}
		before := sessionCookie(t, s, c)
		r := s.do(t, c, "POST", "/2fa", map[string][]string{"code": {s.code(t, secret)}})
		if r.status != http.StatusOK {
			t.Fatalf("complete: %d %q", r.status, r.body)
		}
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "remember_token=") {
			t.Fatal("remember me was not carried over the second factor")
		}
		if storeMode && sessionCookie(t, s, c) == before {
			t.Fatal("session id not renewed on completion")
		}
		sess = s.session(t, c)
		if k := tfKeys(sess); len(k) != 0 {
			t.Fatalf("tf_ keys left after success: %v", k)
		}
		if sess["_user_id"] != "alice" || sess["_fresh"] != true {
			t.Fatalf("after success %v", sess)
		}
	})
}

func sessionCookie(t *testing.T, s *server, c *http.Client) string {
	t.Helper()
	for _, k := range c.Jar.Cookies(mustURL(t, s.srv.URL)) {
		if k.Name == "session" {
			return k.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestWrongCodeKeepsPending: a typo is a failure, not the end of the
// login; the user can still complete with the right code.
func TestWrongCodeKeepsPending(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		s, c, secret := pendingAlice(t, storeMode)
		_, err := s.submit(t, c, wrongCode(t, s.fixture, secret))
		wantErr(t, err, twofactor.ErrInvalidCode)
		if k := tfKeys(s.session(t, c)); len(k) == 0 {
			t.Fatal("a wrong code cleared the pending login")
		}
		if r := s.do(t, c, "GET", "/account", nil); r.status != http.StatusFound {
			t.Fatalf("after a wrong code: %d", r.status)
		}
		if _, err := s.submit(t, c, s.code(t, secret)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLockoutClearsPending (MF-02, T-20): the fifth wrong code locks the
// user and clears the pending login; the right code then finds nothing.
func TestLockoutClearsPending(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		s, c, secret := pendingAlice(t, storeMode)
		wrong := wrongCode(t, s.fixture, secret)
		for range twofactor.DefaultMaxFailures - 1 {
			_, err := s.submit(t, c, wrong)
			wantErr(t, err, twofactor.ErrInvalidCode)
		}
		_, err := s.submit(t, c, wrong)
		wantErr(t, err, twofactor.ErrLocked)
		if k := tfKeys(s.session(t, c)); len(k) != 0 {
			t.Fatalf("tf_ keys left after the lockout: %v", k)
		}
		_, err = s.submit(t, c, s.code(t, secret))
		wantErr(t, err, twofactor.ErrNotPending)
		// A new password step does not lift the lock.
		s.login(t, c, "alice", false)
		_, err = s.submit(t, c, s.code(t, secret))
		wantErr(t, err, twofactor.ErrLocked)
		if r := s.do(t, c, "GET", "/account", nil); r.status != http.StatusFound {
			t.Fatalf("locked user on Required: %d", r.status)
		}
	})
}

// TestReplayedCookieKeepsFailures (MF-02): in cookie mode the client holds
// the session, so it can send an old cookie again; the failure count is in
// the Store, so that buys no extra attempts.
func TestReplayedCookieKeepsFailures(t *testing.T) {
	s, c, secret := pendingAlice(t, false)
	u := mustURL(t, s.srv.URL)
	saved := c.Jar.Cookies(u)
	wrong := wrongCode(t, s.fixture, secret)
	for range twofactor.DefaultMaxFailures - 1 {
		_, err := s.submit(t, c, wrong)
		wantErr(t, err, twofactor.ErrInvalidCode)
	}
	c.Jar.SetCookies(u, saved)
	_, err := s.submit(t, c, wrong)
	wantErr(t, err, twofactor.ErrLocked)
}

// TestPendingTimeout (MF-02): after PendingTTL the pending login is gone,
// even with the right code, and the tf_ keys are cleared.
func TestPendingTimeout(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		s, c, secret := pendingAlice(t, storeMode)
		s.clock.Add(twofactor.DefaultPendingTTL + time.Second)
		_, err := s.submit(t, c, s.code(t, secret))
		wantErr(t, err, twofactor.ErrExpired)
		if k := tfKeys(s.session(t, c)); len(k) != 0 {
			t.Fatalf("tf_ keys left after the timeout: %v", k)
		}
		if r := s.do(t, c, "GET", "/account", nil); r.status != http.StatusFound {
			t.Fatalf("expired pending user on Required: %d", r.status)
		}
		// Just inside the limit it works.
		s.login(t, c, "alice", false)
		s.clock.Add(twofactor.DefaultPendingTTL)
		if _, err := s.submit(t, c, s.code(t, secret)); err != nil {
			t.Fatalf("at the TTL: %v", err)
		}
	})
}

// TestCancelAndRecovery: Cancel clears the tf_ keys; a recovery code
// completes a login once.
func TestCancelAndRecovery(t *testing.T) {
	s := newServer(t, true, "/login")
	_, codes := s.enrol(t, "alice")
	c := s.client(t)
	s.login(t, c, "alice", false)
	s.do(t, c, "POST", "/cancel", nil)
	if k := tfKeys(s.session(t, c)); len(k) != 0 {
		t.Fatalf("tf_ keys left after Cancel: %v", k)
	}
	_, err := s.submit(t, c, codes[0])
	wantErr(t, err, twofactor.ErrNotPending)
	s.login(t, c, "alice", false)
	if r, err := s.submit(t, c, codes[0]); err != nil || r.body != "ok recovery_code" {
		t.Fatalf("recovery: %q %v", r.body, err)
	}
	c2 := s.client(t)
	s.login(t, c2, "alice", false)
	_, err = s.submit(t, c2, codes[0])
	wantErr(t, err, twofactor.ErrInvalidCode)
}

// TestNotEnrolledLogsIn: Begin logs a user without a second factor in at
// once; a pending enrolment does not count.
func TestNotEnrolledLogsIn(t *testing.T) {
	s := newServer(t, true, "/login")
	if _, err := s.tf.Enroll(ctx, "bob", "bob"); err != nil {
		t.Fatal(err)
	}
	c := s.client(t)
	if r := s.login(t, c, "bob", false); r.body != "pending=false" {
		t.Fatalf("login: %q", r.body)
	}
	if r := s.do(t, c, "GET", "/account", nil); r.body != "account of bob" {
		t.Fatalf("account: %d %q", r.status, r.body)
	}
	if k := tfKeys(s.session(t, c)); len(k) != 0 {
		t.Fatalf("tf_ keys for a direct login: %v", k)
	}
}

// TestNoSecretInSession (MF-06): the TOTP secret never enters the
// session, whose cookie-mode payload the client can read.
func TestNoSecretInSession(t *testing.T) {
	s, c, secret := pendingAlice(t, false)
	for k, v := range s.session(t, c) {
		if str, ok := v.(string); ok && strings.Contains(strings.ToUpper(str), secret) {
			t.Fatalf("session key %s holds the secret", k)
		}
	}
}

// TestUserGone: a user deleted during the pending login is not logged in.
func TestUserGone(t *testing.T) {
	s := newServer(t, true, "/login")
	secret, _ := s.enrol(t, "carol")
	c := s.client(t)
	s.login(t, c, "carol", false) // Begin takes the user; LoadUser has no carol
	_, err := s.submit(t, c, s.code(t, secret))
	if !errors.Is(err, twofactor.ErrNotPending) {
		t.Fatalf("gone user: %v", err)
	}
	if k := tfKeys(s.session(t, c)); len(k) != 0 {
		t.Fatalf("tf_ keys left: %v", k)
	}
}

// pendingAlice starts a server, enrols alice and returns a client whose
// session is past the password step, and alice's secret.
func pendingAlice(t *testing.T, storeMode bool) (*server, *http.Client, string) {
	t.Helper()
	s := newServer(t, storeMode, "/login")
	secret, _ := s.enrol(t, "alice")
	c := s.client(t)
	if r := s.login(t, c, "alice", false); r.body != "pending=true" {
		t.Fatalf("login: %q", r.body)
	}
	return s, c, secret
}

// TestLastAuth (MF-05): a login through Begin/Complete records its user,
// time and second factor; it does not survive logout nor pass to another
// user logged in over the same session.
func TestLastAuth(t *testing.T) {
	modes(t, func(t *testing.T, storeMode bool) {
		s, c, secret := pendingAlice(t, storeMode)
		now := s.clock.Now().Unix()
		if r := s.do(t, c, "GET", "/auth", nil); r.body != `false  -62135596800 ""` {
			t.Fatalf("pending: %q", r.body)
		}
		s.submit(t, c, s.code(t, secret))
		if r := s.do(t, c, "GET", "/auth", nil); r.body != fmt.Sprintf(`true alice %d "authenticator"`, now) {
			t.Fatalf("after the code: %q", r.body)
		}
		s.do(t, c, "POST", "/login-direct", url.Values{"user": {"bob"}})
		if r := s.do(t, c, "GET", "/auth", nil); !strings.HasPrefix(r.body, "false") {
			t.Fatalf("bob inherits alice's record: %q", r.body)
		}
		s.do(t, c, "POST", "/logout", nil)
		s.login(t, c, "bob", false) // bob has no second factor
		if r := s.do(t, c, "GET", "/auth", nil); r.body != fmt.Sprintf(`true bob %d ""`, now) {
			t.Fatalf("password-only login: %q", r.body)
		}
		s.do(t, c, "POST", "/logout", nil)
		if r := s.do(t, c, "GET", "/auth", nil); !strings.HasPrefix(r.body, "false") {
			t.Fatalf("after logout: %q", r.body)
		}
	})
}

// TestBeginWithoutUser: a nil user or an empty id is an error, not a panic
// nor a pending login.
func TestBeginWithoutUser(t *testing.T) {
	s := newServer(t, true, "/login")
	c := s.client(t)
	if r := s.login(t, c, "", false); r.status != http.StatusInternalServerError || !strings.Contains(r.body, "empty ID") {
		t.Fatalf("empty id: %d %q", r.status, r.body)
	}
	if _, err := s.tf.Begin(nil, httptest.NewRequest("POST", "/", nil), nil, false); !errors.Is(err, login.ErrNoID) {
		t.Fatalf("nil user: %v", err)
	}
}
