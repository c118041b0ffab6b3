package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/flash"
	"github.com/seshat-go/seshat/memstore"
)

// stack is seshat + csrf + login on a real server, with the handlers the
// security tests need.
type stack struct {
	srv  *httptest.Server
	last http.Header // the last response's header
	// bump is the application's "password changed" step, run by
	// /others after the session is loaded: it bumps the user's generation.
	bump func(userID string)
}

func newStack(t *testing.T, sc seshat.Config, lc Config) *stack {
	t.Helper()
	sc.Keys = [][]byte{sessionKey}
	sc.Logger = slog.New(slog.DiscardHandler)
	sm, err := seshat.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if lc.LoadUser == nil {
		lc.LoadUser = loadVectorUser
	}
	lc.Logger = slog.New(slog.DiscardHandler)
	lc.Keys = [][]byte{rememberKey}
	lm, err := New(lc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New([][]byte{sessionKey}, csrf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, tok)
	})
	mux.HandleFunc("POST /login/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LoginUser(w, r, testUser(r.PathValue("uid")), LoginOptions{}); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LogoutUser(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /action", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	st := &stack{}
	mux.HandleFunc("POST /others", func(w http.ResponseWriter, r *http.Request) {
		if u := lm.CurrentUser(r); st.bump != nil && lm.IsAuthenticated(r) {
			st.bump(u.ID())
		}
		n, err := lm.LogoutOthers(w, r, sc.Store)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("GET /pre", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		for _, k := range []string{"cart", "theme", "mfa_ok", "role", KeyNext} {
			_ = s.Set(k, k+"-value")
		}
		_ = flash.Add(s, "message", "please log in")
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Join(seshat.FromContext(r.Context()).Keys(), " "))
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		if !lm.IsAuthenticated(r) {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, lm.CurrentUser(r).ID())
	})
	st.srv = httptest.NewServer(sm.Handler(p.Protect(lm.Handler(mux))))
	t.Cleanup(st.srv.Close)
	return st
}

// do sends a request with the session cookie of j (and token, as the
// X-CSRFToken header, when not empty) and keeps the response's cookie.
func (st *stack) do(t *testing.T, j jar, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, st.srv.URL+path, nil)
	for k, v := range j {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if token != "" {
		req.Header.Set("X-CSRFToken", token)
	}
	res, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	j.apply(res)
	st.last = res.Header
	return res.StatusCode, string(b)
}

// CS-03: a token obtained before login (by the user, or by an attacker who
// planted the anonymous session: login CSRF) stops working at login, and
// one of the logged-in session stops working at logout.
func TestLoginRotatesCSRFToken(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			sc := seshat.Config{}
			if mode == "store" {
				sc.Store = newMemStore(t)
			}
			st := newStack(t, sc, Config{})
			j := jar{}
			_, pre := st.do(t, j, "GET", "/token", "")
			if code, _ := st.do(t, j, "POST", "/login/42", pre); code != http.StatusOK {
				t.Fatalf("login with a valid token: %d", code)
			}
			if code, _ := st.do(t, j, "POST", "/action", pre); code != http.StatusForbidden {
				t.Fatalf("pre-login token after login: %d, want 403", code)
			}
			_, post := st.do(t, j, "GET", "/token", "")
			if post == pre || post == "" {
				t.Fatal("no new token after login")
			}
			if code, _ := st.do(t, j, "POST", "/action", post); code != http.StatusOK {
				t.Fatalf("new token: %d", code)
			}
			st.do(t, j, "POST", "/logout", post)
			if code, _ := st.do(t, j, "POST", "/action", post); code != http.StatusForbidden {
				t.Fatalf("logged-in token after logout: %d, want 403", code)
			}
		})
	}
}

// LC-03: with KeepOnLogin, login keeps the listed keys (and the flow's own:
// flashes, next, the permanent flag) and drops every other pre-login key;
// without it every key survives, as in Flask-Login.
func TestLoginDropsPreLoginFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep []string
		want string
	}{
		{"KeepOnLogin", []string{"cart", "theme"}, "_flashes _fresh _id _user_id cart next theme"},
		{"FlaskLoginDefault", nil, "_flashes _fresh _id _user_id cart mfa_ok next role theme"},
	} {
		for _, mode := range []string{"cookie", "store"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				sc := seshat.Config{}
				if mode == "store" {
					sc.Store = newMemStore(t)
				}
				st := newStack(t, sc, Config{KeepOnLogin: tc.keep})
				j := jar{}
				st.do(t, j, "GET", "/pre", "")
				_, tok := st.do(t, j, "GET", "/token", "")
				if code, body := st.do(t, j, "POST", "/login/42", tok); code != http.StatusOK {
					t.Fatalf("login: %d %s", code, body)
				}
				if _, keys := st.do(t, j, "GET", "/keys", ""); keys != tc.want {
					t.Fatalf("keys after login %q, want %q", keys, tc.want)
				}
			})
		}
	}
}

// LC-05 end to end: cookie mode with seshat.Config.Generation; the
// application bumps the counter in OnLogout, so a copy of the logged-in
// cookie taken before logout is anonymous afterwards.
func TestLogoutRevokesCookieModeCopiesWithGeneration(t *testing.T) {
	var mu sync.Mutex
	gens := map[string]uint64{}
	gen := func(_ context.Context, id string) (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		return gens[id], nil
	}
	st := newStack(t, seshat.Config{Generation: gen}, Config{OnLogout: func(_ *http.Request, u User) {
		mu.Lock()
		gens[u.ID()]++
		mu.Unlock()
	}})
	j := jar{}
	_, tok := st.do(t, j, "GET", "/token", "")
	st.do(t, j, "POST", "/login/42", tok)
	stolen := j.clone()
	if _, who := st.do(t, stolen.clone(), "GET", "/whoami", ""); who != "42" {
		t.Fatalf("copy before logout: %q", who)
	}
	_, tok = st.do(t, j, "GET", "/token", "")
	st.do(t, j, "POST", "/logout", tok)
	if _, who := st.do(t, stolen, "GET", "/whoami", ""); who != "anonymous" {
		t.Fatalf("copy replayed after logout: %q", who)
	}
	// Logging in again works with the new generation.
	_, tok = st.do(t, j, "GET", "/token", "")
	st.do(t, j, "POST", "/login/42", tok)
	if _, who := st.do(t, j, "GET", "/whoami", ""); who != "42" {
		t.Fatalf("login after logout: %q", who)
	}
}

func newMemStore(t *testing.T) *memstore.Store {
	ms := memstore.New(memstore.Options{})
	t.Cleanup(func() { ms.Close() })
	return ms
}

// CK-04 / CK-09 for the remember cookie: the prefix rules are enforced at
// New (case-insensitively), and the deletion of a prefixed cookie carries
// Secure in every mode, or the browser would keep it.
func TestRememberCookiePrefix(t *testing.T) {
	base := Config{LoadUser: loadVectorUser, Keys: [][]byte{rememberKey}}
	for _, tc := range []struct {
		c  CookieOptions
		ok bool
	}{
		{CookieOptions{Name: "__Host-remember"}, false},
		{CookieOptions{Name: "__host-remember", Secure: seshat.SecureAlways, Domain: "example.com"}, false},
		{CookieOptions{Name: "__Host-remember", Secure: seshat.SecureAlways, Path: "/app"}, false},
		{CookieOptions{Name: "__SECURE-remember"}, false},
		{CookieOptions{Name: "__Host-remember", Secure: seshat.SecureAlways}, true},
		{CookieOptions{Name: "__Secure-remember", Secure: seshat.SecureAlways, Domain: "example.com"}, true},
	} {
		cfg := base
		cfg.RememberCookie = tc.c
		if _, err := New(cfg); tc.ok != (err == nil) {
			t.Errorf("%+v: %v", tc.c, err)
		}
	}
	for _, mode := range []RememberMode{RememberTokens, RememberFlask} {
		cfg := base
		cfg.Remember = mode
		cfg.FlaskRememberKey = rememberKey
		cfg.RememberCookie = CookieOptions{Name: "__Secure-remember", Secure: seshat.SecureAlways}
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if h := m.deleteHeader(true); !strings.Contains(h, "; Secure") {
			t.Errorf("mode %v: deletion %q lacks Secure", mode, h)
		}
	}
	// Flask-Login's exact deletion header stays for unprefixed names.
	cfg := base
	cfg.Remember, cfg.FlaskRememberKey = RememberFlask, rememberKey
	m, _ := New(cfg)
	if h := m.deleteHeader(true); h != "remember_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/" {
		t.Errorf("Flask deletion: %q", h)
	}
}

// LC-02 / RM-03: every change of authentication state renews the session
// id and kills the old one in store mode: ConfirmLogin (re-entering the
// password) and a login restored from the remember cookie, as LoginUser
// does (TestFixationOldIDDeadAfterLogin).
func TestConfirmAndRememberLoginRenewTheID(t *testing.T) {
	a := newApp(t, Config{Tokens: NewMemoryTokens(nil)}, true)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	before := j["session"]
	a.get(t, j, "/confirm", uaA)
	after := j["session"]
	if after == "" || after == before {
		t.Fatal("ConfirmLogin kept the session id")
	}
	if r := a.get(t, jar{"session": before}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("pre-confirm id still live: %q", r.body)
	}

	// The browser was closed: an anonymous session exists, then the
	// remember cookie logs the user in on the next request.
	delete(j, "session")
	a.get(t, j, "/set", uaA)
	anon := j["session"]
	if _, err := a.store.Load(context.Background(), seshat.StoreKey(anon[:43])); err != nil {
		t.Fatalf("anonymous record: %v", err)
	}
	if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("remember login: %q", r.body)
	}
	if j["session"] == "" || j["session"] == anon {
		t.Fatal("remember login kept the anonymous session id")
	}
	if _, err := a.store.Load(context.Background(), seshat.StoreKey(anon[:43])); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("pre-login record still stored: %v", err)
	}
}

// HD-01 for the login flow (Flask CVE-2023-30861): the login and logout
// responses set the session cookie, so they vary on Cookie and are private.
func TestLoginLogoutResponsesAreNotShared(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		sc := seshat.Config{}
		if mode == "store" {
			sc.Store = newMemStore(t)
		}
		st := newStack(t, sc, Config{})
		j := jar{}
		_, tok := st.do(t, j, "GET", "/token", "")
		for _, path := range []string{"/login/42", "/logout"} {
			st.do(t, j, "POST", path, tok)
			h := st.last
			if h.Get("Set-Cookie") == "" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Cookie") || h.Get("Cache-Control") != "private" {
				t.Errorf("%s %s: Set-Cookie %q, Vary %q, Cache-Control %q", mode, path, h.Get("Set-Cookie"), h.Get("Vary"), h.Get("Cache-Control"))
			}
			_, tok = st.do(t, j, "GET", "/token", "")
		}
	}
}

// LC-08 (ASVS 5.0 7.4.3): after a password change LogoutOthers ends the
// user's other sessions and keeps this one under a new id: in store mode
// through the per-user index, in cookie mode through the generation the
// application bumps. Another user is untouched; an anonymous request gets
// ErrNotLoggedIn.
func TestLogoutOthersKeepsThisSession(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			gens := map[string]uint64{}
			gen := func(_ context.Context, id string) (uint64, error) {
				mu.Lock()
				defer mu.Unlock()
				return gens[id], nil
			}
			sc := seshat.Config{}
			if mode == "store" {
				sc.Store = newMemStore(t)
			} else {
				sc.Generation = gen
			}
			// The same counter revokes the signed remember tokens.
			st := newStack(t, sc, Config{Generation: gen})
			st.bump = func(id string) {
				mu.Lock()
				gens[id]++
				mu.Unlock()
			}
			login := func(uid string) jar {
				j := jar{}
				_, tok := st.do(t, j, "GET", "/token", "")
				st.do(t, j, "POST", "/login/"+uid, tok)
				return j
			}
			here, phone, laptop, other := login("42"), login("42"), login("42"), login("7")
			before := here["session"]
			_, tok := st.do(t, here, "GET", "/token", "")
			if code, body := st.do(t, here, "POST", "/others", tok); code != http.StatusOK {
				t.Fatalf("LogoutOthers: %d %s", code, body)
			}
			if here["session"] == before {
				t.Fatal("this session kept its cookie value")
			}
			for name, j := range map[string]jar{"phone": phone, "laptop": laptop, "old cookie": {"session": before}} {
				if _, who := st.do(t, j, "GET", "/whoami", ""); who != "anonymous" {
					t.Errorf("%s still logged in as %q", name, who)
				}
			}
			if _, who := st.do(t, here, "GET", "/whoami", ""); who != "42" {
				t.Fatalf("this session: %q", who)
			}
			if _, who := st.do(t, other, "GET", "/whoami", ""); who != "7" {
				t.Fatalf("another user: %q", who)
			}
			anon := jar{}
			_, tok = st.do(t, anon, "GET", "/token", "")
			if code, body := st.do(t, anon, "POST", "/others", tok); code != 500 || !strings.Contains(body, ErrNotLoggedIn.Error()) {
				t.Fatalf("anonymous: %d %q", code, body)
			}
		})
	}
}
