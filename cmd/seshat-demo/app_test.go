package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/login"
)

// stores lists the session stores the flows run on. Server stores skip (or
// fail under SESHAT_REQUIRE_SERVICES=1) when their server is not running.
var stores = []struct {
	name, url, addr string
}{
	{"sqlite", "", ""},
	{"cookie", "cookie", ""},
	{"redis", "redis://127.0.0.1:6379/0", "127.0.0.1:6379"},
	{"postgres", "postgres://postgres@127.0.0.1:5432/test", "127.0.0.1:5432"},
	{"mysql", "mysql://root@127.0.0.1:3306/test", "127.0.0.1:3306"},
}

// eachStore runs f once per session store.
func eachStore(t *testing.T, f func(t *testing.T, ta *testApp)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			if s.addr != "" {
				testenv.Dial(t, s.name, s.addr)
			}
			ta := newTestApp(t, s.url)
			// Server stores outlive the test's users database: start this
			// test's user ids at a random base, so that runs sharing a
			// server never see each other's users' sessions.
			base := rand.Int64N(1 << 40)
			if _, err := ta.users.db.ExecContext(context.Background(),
				`INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)`,
				base, "seed-"+url.QueryEscape(t.Name())+"@invalid"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ta.forgetSessions(t, base) })
			f(t, ta)
		})
	}
}

func TestSignupLoginLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		b := ta.browser(t)
		p := b.signup("Ada@Example.org", "correct horse")
		if p.url != "/login" || !p.hasFlash("success", "Account created") {
			t.Fatalf("signup: at %s, flashes %q", p.url, p.flashes())
		}
		p.mustBe(t, "anonymous")
		if p := b.signup("ada@example.org", "another one"); !p.hasFlash("error", "already exists") {
			t.Fatalf("second signup with the same address: flashes %q", p.flashes())
		}
		if p := b.login("ada@example.org", "wrong password", false); !p.hasFlash("error", "Wrong email or password") || p.status != 401 {
			t.Fatalf("wrong password: status %d, flashes %q", p.status, p.flashes())
		}
		if p := b.login("nobody@example.org", "correct horse", false); !p.hasFlash("error", "Wrong email or password") {
			t.Fatalf("unknown email: flashes %q", p.flashes())
		}
		p = b.login("ADA@example.org", "correct horse", false)
		if p.url != "/" || !p.hasFlash("success", "Logged in") {
			t.Fatalf("login: at %s, flashes %q", p.url, p.flashes())
		}
		p.mustBe(t, "ada@example.org")
		p = b.post("/logout", nil)
		if !p.hasFlash("info", "Logged out") {
			t.Fatalf("logout: flashes %q", p.flashes())
		}
		p.mustBe(t, "anonymous")
		if p := b.get("/settings"); p.url != "/login" {
			t.Fatalf("/settings after logout: at %s, want /login", p.url)
		}
	})
}

func TestLoginRequiredKeepsNext(t *testing.T) {
	ta := newTestApp(t, "")
	b := ta.browser(t)
	b.signup("n@example.org", "password1")
	p := b.get("/sessions")
	if p.url != "/login" || !strings.Contains(p.body, `name="next" value="/sessions"`) {
		t.Fatalf("anonymous /sessions: at %s, next not kept", p.url)
	}
	p = b.post("/login", url.Values{"email": {"n@example.org"}, "password": {"password1"}, "next": {"/sessions"}})
	if p.url != "/sessions" {
		t.Fatalf("after login: at %s, want /sessions", p.url)
	}
	p = b.post("/login", url.Values{"email": {"n@example.org"}, "password": {"password1"}, "next": {"//evil.example/"}})
	if p.url != "/" {
		t.Fatalf("login with an off-site next: at %s, want /", p.url)
	}
}

func TestRememberMe(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		b := ta.browser(t)
		b.signup("r@example.org", "password1")
		b.login("r@example.org", "password1", true)
		remember := b.cookie("remember_token")
		if remember == "" {
			t.Fatal("no remember_token cookie after a login with remember me")
		}
		// A browser restart: the session cookie is gone, the remember
		// cookie (which has an expiry) stays.
		u, _ := url.Parse(b.base)
		fresh := ta.browser(t)
		fresh.jar.SetCookies(u, []*http.Cookie{{Name: "remember_token", Value: remember}})
		p := fresh.get("/settings")
		p.mustBe(t, "r@example.org")
		if p.url != "/settings" {
			t.Fatalf("remembered user at %s, want /settings", p.url)
		}
		// Without remember me, a new browser is anonymous.
		c := ta.browser(t)
		c.login("r@example.org", "password1", false)
		if c.cookie("remember_token") != "" {
			t.Fatal("remember_token set without remember me")
		}
	})
}

func TestChangePasswordRevokesOthers(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		a, b := ta.browser(t), ta.browser(t)
		a.signup("p@example.org", "password1")
		a.login("p@example.org", "password1", true)
		b.login("p@example.org", "password1", true)
		b.get("/").mustBe(t, "p@example.org")
		before := a.cookie("session")

		a.get("/settings")
		p := a.post("/settings/password", url.Values{"current_password": {"wrong"}, "new_password": {"password2"}})
		if !p.hasFlash("error", "current password") {
			t.Fatalf("wrong current password: flashes %q", p.flashes())
		}
		p = a.post("/settings/password", url.Values{"current_password": {"password1"}, "new_password": {"password2"}})
		if !p.hasFlash("success", "Password changed") {
			t.Fatalf("change password: flashes %q", p.flashes())
		}
		p.mustBe(t, "p@example.org")
		if after := a.cookie("session"); after == before {
			t.Error("the session cookie did not change: the session was not renewed")
		}
		// The other browser is signed out, remember cookie and all.
		b.get("/").mustBe(t, "anonymous")
		b.get("/settings").mustBe(t, "anonymous")
		// Every remember token of the user is revoked, this browser's too
		// (its cookie is deleted); the session itself stays logged in.
		if a.cookie("remember_token") != "" {
			t.Error("this browser's remember cookie survived the password change")
		}
		a.get("/settings").mustBe(t, "p@example.org")

		if p := b.login("p@example.org", "password1", false); !p.hasFlash("error", "Wrong") {
			t.Fatalf("old password still works: flashes %q", p.flashes())
		}
		b.login("p@example.org", "password2", false).mustBe(t, "p@example.org")
	})
}

func TestSessionsPageRevoke(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		if ta.store == nil {
			t.Skip("cookie mode lists no sessions; see TestCookieModeLogoutEverywhere")
		}
		a, b, c := ta.browser(t), ta.browser(t), ta.browser(t)
		a.signup("s@example.org", "password1")
		a.login("s@example.org", "password1", false)
		b.login("s@example.org", "password1", false)
		c.login("s@example.org", "password1", true)

		p := a.get("/sessions")
		rows := rowRe.FindAllStringSubmatch(p.body, -1)
		if len(rows) != 3 {
			t.Fatalf("%d session rows, want 3:\n%s", len(rows), p.body)
		}
		var current int
		var handles []string
		for _, r := range rows {
			if !strings.Contains(r[0], `data-handle="`) {
				t.Error("a session row has no data-handle")
			}
			if r[1] != "" {
				current++
				if handleRe.MatchString(r[0]) {
					t.Error("the current session has a revoke form")
				}
				continue
			}
			handles = append(handles, handleRe.FindStringSubmatch(r[0])[1])
		}
		if current != 1 || len(handles) != 2 {
			t.Fatalf("%d current rows and %d revocable, want 1 and 2", current, len(handles))
		}
		// The page shows handles, never store keys.
		infos, err := ta.store.(seshat.UserIndex).ListByUser(context.Background(), ta.currentID(t, "s@example.org"))
		if err != nil || len(infos) != 3 {
			t.Fatalf("ListByUser: %d sessions, %v", len(infos), err)
		}
		for _, in := range infos {
			if strings.Contains(p.body, in.Key) {
				t.Fatal("the sessions page shows a store key")
			}
		}
		// b's handle: the one a sees and b does not (b's own row has none).
		seenByB := handleRe.FindAllStringSubmatch(b.get("/sessions").body, -1)
		bHandle := ""
		for _, h := range handles {
			if !slices.ContainsFunc(seenByB, func(m []string) bool { return m[1] == h }) {
				bHandle = h
			}
		}
		if bHandle == "" {
			t.Fatal("b's session not among the revocable rows")
		}
		p = a.post("/sessions/revoke", url.Values{"handle": {bHandle}})
		if !p.hasFlash("success", "Session revoked") {
			t.Fatalf("revoke: flashes %q", p.flashes())
		}
		b.get("/").mustBe(t, "anonymous")
		c.get("/").mustBe(t, "s@example.org")
		if n := len(rowRe.FindAllString(a.get("/sessions").body, -1)); n != 2 {
			t.Fatalf("%d rows after revoking one of 3", n)
		}
		// A handle that matches nothing (or another user's) ends nothing.
		if p := a.post("/sessions/revoke", url.Values{"handle": {"00112233"}}); !p.hasFlash("error", "already ended") {
			t.Fatalf("bogus handle: flashes %q", p.flashes())
		}

		// Log out everywhere: c (and its remember cookie) out, a stays.
		a.get("/sessions")
		p = a.post("/sessions/revoke-all", nil)
		if !p.hasFlash("success", "1 other session") {
			t.Fatalf("revoke-all: flashes %q", p.flashes())
		}
		p.mustBe(t, "s@example.org")
		c.get("/").mustBe(t, "anonymous")
		if n := len(rowRe.FindAllString(a.get("/sessions").body, -1)); n != 1 {
			t.Fatalf("%d rows after logging out everywhere, want 1", n)
		}
	})
}

// currentID returns the id of the user with email.
func (ta *testApp) currentID(t *testing.T, email string) string {
	t.Helper()
	u, err := ta.users.ByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID()
}

func TestCookieModeLogoutEverywhere(t *testing.T) {
	ta := newTestApp(t, "cookie")
	a, b := ta.browser(t), ta.browser(t)
	a.signup("c@example.org", "password1")
	a.login("c@example.org", "password1", false)
	b.login("c@example.org", "password1", true)
	if a.cookie("session") == "" || b.cookie("remember_token") == "" {
		t.Fatal("missing cookies")
	}
	p := a.get("/sessions")
	if n := len(rowRe.FindAllString(p.body, -1)); n != 1 || !strings.Contains(p.body, `data-current="true"`) {
		t.Fatalf("cookie mode: %d rows, want only the current one", n)
	}
	p = a.post("/sessions/revoke-all", nil)
	if !p.hasFlash("success", "next request") {
		t.Fatalf("revoke-all: flashes %q", p.flashes())
	}
	p.mustBe(t, "c@example.org")
	p = b.get("/")
	p.mustBe(t, "anonymous")
	if !p.hasFlash("info", "signed out") {
		t.Fatalf("revoked browser: flashes %q", p.flashes())
	}
	// b's copy of the remember cookie is dead too (older generation).
	u, _ := url.Parse(b.base)
	fresh := ta.browser(t)
	fresh.jar.SetCookies(u, []*http.Cookie{{Name: "remember_token", Value: b.cookie("remember_token")}})
	fresh.get("/").mustBe(t, "anonymous")
	a.get("/").mustBe(t, "c@example.org")
}

func TestCSRFRefused(t *testing.T) {
	ta := newTestApp(t, "")
	b := ta.browser(t)
	b.get("/")
	for _, form := range []url.Values{
		{"theme": {"dark"}},                            // no token
		{"theme": {"dark"}, "csrf_token": {"garbage"}}, // bad token
	} {
		p := b.postRaw("/theme", form)
		m := errTitle.FindStringSubmatch(p.body)
		if p.status != 403 || m == nil || !strings.Contains(m[1], "CSRF") {
			t.Fatalf("POST /theme %v: status %d, title %q", form, p.status, m)
		}
	}
	if th := b.get("/").theme(); th != "light" {
		t.Fatalf("theme %q after refused posts, want light", th)
	}
	// Every form on every page carries the token.
	b.signup("x@example.org", "password1")
	b.login("x@example.org", "password1", false)
	for _, path := range []string{"/", "/settings", "/sessions", "/login", "/signup"} {
		body := b.get(path).body
		forms := strings.Count(body, "<form")
		if tokens := len(csrfRe.FindAllString(body, -1)); forms == 0 || tokens != forms {
			t.Errorf("%s: %d forms, %d tokens", path, forms, tokens)
		}
	}
	// Another browser's token is refused too.
	other := ta.browser(t)
	other.get("/")
	p := b.postRaw("/logout", url.Values{"csrf_token": {csrfToken(t, other.last)}})
	if p.status != 403 {
		t.Fatalf("another session's token: status %d", p.status)
	}
	b.get("/").mustBe(t, "x@example.org")
}

func TestThemeSurvivesLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		b := ta.browser(t)
		b.signup("t@example.org", "password1")
		p := b.post("/theme", url.Values{"theme": {"dark"}, "next": {"/login"}})
		if p.url != "/login" || p.theme() != "dark" || !p.hasFlash("info", "dark") {
			t.Fatalf("theme: at %s, theme %q, flashes %q", p.url, p.theme(), p.flashes())
		}
		before := b.cookie("session")
		p = b.login("t@example.org", "password1", false)
		p.mustBe(t, "t@example.org")
		if p.theme() != "dark" {
			t.Fatalf("theme after login = %q, want dark", p.theme())
		}
		if b.cookie("session") == before {
			t.Error("login did not renew the session")
		}
		p = b.post("/logout", nil)
		if p.theme() != "dark" {
			t.Fatalf("theme after logout = %q, want dark", p.theme())
		}
		if p := b.post("/theme", url.Values{"theme": {"purple"}}); p.status != 400 {
			t.Fatalf("unknown theme: status %d", p.status)
		}
	})
}

func TestLoginThrottled(t *testing.T) {
	ta := newTestApp(t, "")
	b := ta.browser(t)
	b.signup("th@example.org", "password1")
	for i := 0; i < pairLimit; i++ {
		b.login("th@example.org", "wrong", false)
	}
	p := b.login("th@example.org", "password1", false)
	if p.status != 429 || !p.hasFlash("error", "Too many failed logins") {
		t.Fatalf("right password after %d failures: status %d, flashes %q", pairLimit, p.status, p.flashes())
	}
	p.mustBe(t, "anonymous")
	b.signup("other@example.org", "password1")
	b.login("other@example.org", "password1", false).mustBe(t, "other@example.org")
}

// forgetSessions deletes, from a server store, every session and remember
// token of the users this test created (ids above base), so test runs leave
// nothing behind in a shared database.
func (ta *testApp) forgetSessions(t *testing.T, base int64) {
	ui, ok := ta.store.(seshat.UserIndex)
	if !ok {
		return
	}
	var last int64
	if err := ta.users.db.QueryRow(`SELECT max(id) FROM users`).Scan(&last); err != nil {
		t.Error(err)
		return
	}
	for id := base + 1; id <= last; id++ {
		for _, owner := range []string{strconv.FormatInt(id, 10), login.RememberOwnerPrefix + strconv.FormatInt(id, 10)} {
			if _, err := ui.RevokeUser(context.Background(), owner); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
}
