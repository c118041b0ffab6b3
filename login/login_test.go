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
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

var (
	sessionKey  = []byte("0123456789abcdef0123456789abcdef-session")
	rememberKey = []byte("0123456789abcdef0123456789abcdef-remember")
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type app struct {
	srv   *httptest.Server
	lm    *Manager
	store *memstore.Store
	clock *clock
}

// newApp starts a test server with seshat (cookie mode, or store mode when
// withStore) and a login Manager configured by cfg.
func newApp(t *testing.T, cfg Config, withStore bool) *app {
	t.Helper()
	var ms *memstore.Store
	if withStore {
		ms = memstore.New(memstore.Options{})
		t.Cleanup(func() { ms.Close() })
	}
	return newAppOn(t, cfg, ms)
}

// newAppOn is newApp on a given session store (nil: cookie mode).
func newAppOn(t *testing.T, cfg Config, ms *memstore.Store) *app {
	t.Helper()
	a := &app{clock: &clock{t: time.Unix(1_800_000_000, 0)}, store: ms}
	sc := seshat.Config{Keys: [][]byte{sessionKey}, Now: a.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	if ms != nil {
		sc.Store = ms
	}
	sm, err := seshat.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LoadUser == nil {
		cfg.LoadUser = loadVectorUser
	}
	if cfg.Now == nil {
		cfg.Now = a.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.LoginURL = "/login_page"
	cfg.RefreshURL = "/reauth"
	lm, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.lm = lm
	mux := http.NewServeMux()
	mux.HandleFunc("/login/{uid}", func(w http.ResponseWriter, r *http.Request) {
		err := lm.LoginUser(w, r, testUser(r.PathValue("uid")), LoginOptions{Remember: r.URL.Query().Get("remember") == "1"})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LogoutUser(w, r); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		_ = seshat.FromContext(r.Context()).Set("cart", 1)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		if !lm.IsAuthenticated(r) {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s fresh=%v", lm.CurrentUser(r).ID(), lm.IsFresh(r))
	})
	mux.HandleFunc("/confirm", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.ConfirmLogin(r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.Handle("/private", lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })))
	mux.Handle("/fresh", lm.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fresh secret") })))
	a.srv = httptest.NewServer(sm.Handler(lm.Handler(mux)))
	t.Cleanup(a.srv.Close)
	return a
}

// jar is a minimal cookie jar the tests can copy and edit.
type jar map[string]string

func (j jar) clone() jar {
	out := jar{}
	for k, v := range j {
		out[k] = v
	}
	return out
}

type result struct {
	status  int
	body    string
	loc     string
	cookies []string
}

// get requests path with the cookies of j and the user agent ua, and
// applies the response's cookies to j.
func (a *app) get(t *testing.T, j jar, path, ua string) result {
	t.Helper()
	req, err := http.NewRequest("GET", a.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	for k, v := range j {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := (&http.Client{CheckRedirect: noRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	j.apply(res)
	return result{status: res.StatusCode, body: string(b), loc: res.Header.Get("Location"), cookies: res.Header.Values("Set-Cookie")}
}

// apply keeps the response's cookies in j, as a browser would.
func (j jar) apply(res *http.Response) {
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j, c.Name)
		} else {
			j[c.Name] = c.Value
		}
	}
}

func (r result) setCookie(name string) string {
	for _, c := range r.cookies {
		if strings.HasPrefix(c, name+"=") {
			return c
		}
	}
	return ""
}

const uaA, uaB = "BrowserA/1", "BrowserB/2"

func TestFixationOldIDDeadAfterLogin(t *testing.T) {
	a := newApp(t, Config{Tokens: NewMemoryTokens(nil)}, true)
	j := jar{}
	a.get(t, j, "/set", uaA)
	s0 := j["session"]
	if s0 == "" {
		t.Fatal("no anonymous session")
	}
	a.get(t, j, "/login/42", uaA)
	s1 := j["session"]
	if s1 == "" || s1 == s0 {
		t.Fatalf("login kept the session id")
	}
	if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=true" {
		t.Fatalf("after login: %q", r.body)
	}
	// The pre-login cookie is dead: replaying it gives an anonymous session.
	if r := a.get(t, jar{"session": s0}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("replayed pre-login cookie: %q", r.body)
	}
	// The session is indexed under its owner (log out everywhere).
	infos, err := a.store.ListByUser(context.Background(), "42")
	if err != nil || len(infos) != 1 {
		t.Fatalf("ListByUser = %v, %v", infos, err)
	}
	// Logout kills the logged-in id too.
	a.get(t, j, "/logout", uaA)
	if r := a.get(t, jar{"session": s1}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("replayed logged-in cookie after logout: %q", r.body)
	}
	if infos, _ := a.store.ListByUser(context.Background(), "42"); len(infos) != 0 {
		t.Fatalf("sessions still indexed under the user after logout: %v", infos)
	}
}

func TestRequiredRedirectsWithNextAndFlash(t *testing.T) {
	a := newApp(t, Config{Keys: [][]byte{rememberKey}}, false)
	j := jar{}
	r := a.get(t, j, "/private?x=1&y=a%20b", uaA)
	if r.status != http.StatusFound || r.loc != "/login_page?next=%2Fprivate%3Fx%3D1%26y%3Da%2520b" {
		t.Fatalf("anonymous /private: %d %q", r.status, r.loc)
	}
	a.get(t, j, "/login/42", uaA)
	if r := a.get(t, j, "/private", uaA); r.status != 200 || r.body != "secret" {
		t.Fatalf("logged in /private: %d %q", r.status, r.body)
	}
}

func TestStrongProtectionStaleID(t *testing.T) {
	store := NewMemoryTokens(nil)
	a := newApp(t, Config{Tokens: store, Protection: ProtectionStrong}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	if j["remember_token"] == "" {
		t.Fatal("no remember cookie")
	}
	// Same session cookie from another browser: logged out, and the
	// remember cookie is deleted.
	stolen := j.clone()
	r := a.get(t, stolen, "/whoami", uaB)
	if r.body != "anonymous" {
		t.Fatalf("strong protection let another UA in: %q", r.body)
	}
	if c := r.setCookie("remember_token"); !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("remember cookie not deleted: %q", r.cookies)
	}
	// The original browser is still logged in.
	if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=true" {
		t.Fatalf("original browser: %q", r.body)
	}
}

func TestBasicProtectionMarksNotFresh(t *testing.T) {
	a := newApp(t, Config{Keys: [][]byte{rememberKey}}, false)
	j := jar{}
	a.get(t, j, "/login/42", uaA)
	if r := a.get(t, j, "/whoami", uaB); r.body != "42 fresh=false" {
		t.Fatalf("basic protection: %q", r.body)
	}
	if r := a.get(t, j, "/fresh", uaB); r.status != http.StatusFound || r.loc != "/reauth?next=%2Ffresh" {
		t.Fatalf("fresh after protection: %d %q", r.status, r.loc)
	}
	a.get(t, j, "/confirm", uaB)
	if r := a.get(t, j, "/fresh", uaB); r.status != 200 {
		t.Fatalf("fresh after ConfirmLogin: %d %q", r.status, r.loc)
	}
}

func TestRememberLoginIsNotFresh(t *testing.T) {
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"store", Config{Tokens: NewMemoryTokens(nil)}},
		{"signed", Config{Keys: [][]byte{rememberKey}}},
		{"flask", Config{Remember: RememberFlask, FlaskRememberKey: rememberKey}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := newApp(t, mode.cfg, true)
			j := jar{}
			a.get(t, j, "/login/42?remember=1", uaA)
			delete(j, "session") // the browser was closed
			if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=false" {
				t.Fatalf("remember login: %q", r.body)
			}
			if r := a.get(t, j, "/fresh", uaA); r.status != http.StatusFound || !strings.HasPrefix(r.loc, "/reauth?next=") {
				t.Fatalf("FreshRequired after a remember login: %d %q", r.status, r.loc)
			}
			if r := a.get(t, j, "/private", uaA); r.status != 200 {
				t.Fatalf("Required after a remember login: %d", r.status)
			}
		})
	}
}

func TestTamperedRememberCookie(t *testing.T) {
	for _, mode := range []struct {
		name string
		cfg  Config
	}{
		{"store", Config{Tokens: NewMemoryTokens(nil)}},
		{"signed", Config{Keys: [][]byte{rememberKey}}},
		{"flask", Config{Remember: RememberFlask, FlaskRememberKey: rememberKey}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := newApp(t, mode.cfg, false)
			j := jar{}
			a.get(t, j, "/login/42?remember=1", uaA)
			tok := j["remember_token"]
			for _, bad := range []string{
				tok[:len(tok)-1] + string(tok[len(tok)-1]^1),
				"x" + tok[1:],
				"7" + tok[2:],
				tok + "0",
				"",
				"garbage",
			} {
				if r := a.get(t, jar{"remember_token": bad}, "/whoami", uaA); r.body != "anonymous" {
					t.Errorf("tampered %q logged in: %q", bad, r.body)
				}
			}
		})
	}
}

func TestLogoutClearsRememberCookie(t *testing.T) {
	for _, mode := range []struct {
		name      string
		cfg       Config
		revocable bool
	}{
		{"store", Config{Tokens: NewMemoryTokens(nil)}, true},
		{"flask", Config{Remember: RememberFlask, FlaskRememberKey: rememberKey}, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := newApp(t, mode.cfg, false)
			j := jar{}
			a.get(t, j, "/login/42?remember=1", uaA)
			copied := j.clone()
			r := a.get(t, j, "/logout", uaA)
			c := r.setCookie("remember_token")
			if !strings.Contains(c, "Max-Age=0") || !strings.HasPrefix(c, "remember_token=;") {
				t.Fatalf("logout did not delete the remember cookie: %q", r.cookies)
			}
			if _, ok := j["remember_token"]; ok {
				t.Fatal("cookie still in the jar")
			}
			delete(copied, "session")
			r = a.get(t, copied, "/whoami", uaA)
			if mode.revocable && r.body != "anonymous" {
				t.Fatalf("a copy of the remember cookie still logs in after logout: %q", r.body)
			}
			if !mode.revocable && r.body == "anonymous" {
				t.Fatalf("Flask's cookie cannot be revoked; the test expects the documented weakness")
			}
		})
	}
}

func TestTokenRotationAndTheft(t *testing.T) {
	store := NewMemoryTokens(nil)
	var thefts atomic.Int32
	a := newApp(t, Config{Tokens: store, OnTheft: func(context.Context, string) { thefts.Add(1) }}, false)
	store.now = a.clock.Now
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	c1 := j["remember_token"]
	// A second device of the same user.
	other := jar{}
	a.get(t, other, "/login/42?remember=1", uaB)
	if store.Len() != 2 {
		t.Fatalf("%d tokens, want 2", store.Len())
	}
	delete(j, "session")
	a.get(t, j, "/whoami", uaA)
	c2 := j["remember_token"]
	if c2 == "" || c2 == c1 {
		t.Fatal("the token was not rotated on use")
	}
	if strings.Split(c1, ":")[0] != strings.Split(c2, ":")[0] {
		t.Fatal("rotation changed the selector")
	}
	// Within the grace period the old validator still works (a
	// concurrent request), without a new rotation.
	r := a.get(t, jar{"remember_token": c1}, "/whoami", uaA)
	if r.body != "42 fresh=false" || r.setCookie("remember_token") != "" {
		t.Fatalf("grace reuse: %q %q", r.body, r.cookies)
	}
	// Later, the old validator means theft: every token of the user dies.
	a.clock.Add(time.Minute)
	if r := a.get(t, jar{"remember_token": c1}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("replayed rotated-out token: %q", r.body)
	}
	if thefts.Load() != 1 {
		t.Fatalf("OnTheft called %d times", thefts.Load())
	}
	if r := a.get(t, jar{"remember_token": c2}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("current token survived a theft: %q", r.body)
	}
	delete(other, "session")
	if r := a.get(t, other, "/whoami", uaB); r.body != "anonymous" {
		t.Fatalf("other device's token survived a theft: %q", r.body)
	}
	if store.Len() != 0 {
		t.Fatalf("%d tokens left", store.Len())
	}
}

func TestFlaskSecurity239_TokenStoreHoldsNoValidator(t *testing.T) {
	store := NewMemoryTokens(nil)
	a := newApp(t, Config{Tokens: store}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	sel, val, ok := strings.Cut(j["remember_token"], ":")
	if !ok {
		t.Fatalf("token %q is not selector:validator", j["remember_token"])
	}
	tok, err := store.Get(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", tok), val) || string(tok.Hash) == val {
		t.Fatal("the store holds the validator")
	}
	// RevokeRemembered (log out everywhere) kills it.
	if err := a.lm.RevokeRemembered(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("revoked token: %q", r.body)
	}
}

func TestSignedTokenGeneration(t *testing.T) {
	var gen atomic.Uint64
	a := newApp(t, Config{Keys: [][]byte{rememberKey}, Generation: func(context.Context, string) (uint64, error) { return gen.Load(), nil }}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	tok := j["remember_token"]
	if r := a.get(t, jar{"remember_token": tok}, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("signed token: %q", r.body)
	}
	gen.Add(1)
	if r := a.get(t, jar{"remember_token": tok}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("token of an old generation: %q", r.body)
	}
	if err := a.lm.RevokeRemembered(context.Background(), "42"); !errors.Is(err, ErrNotRevocable) {
		t.Fatalf("RevokeRemembered = %v", err)
	}
	// Expiry is in the token.
	gen.Store(0)
	a.clock.Add(DefaultRememberDuration + time.Second)
	if r := a.get(t, jar{"remember_token": tok}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("expired signed token: %q", r.body)
	}
}

func TestRememberRefreshEachRequestTokens(t *testing.T) {
	store := NewMemoryTokens(nil)
	a := newApp(t, Config{Tokens: store, RememberRefreshEachRequest: true, RememberDuration: 24 * time.Hour}, false)
	store.now = a.clock.Now
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	a.clock.Add(20 * time.Hour)
	r := a.get(t, j, "/whoami", uaA)
	if c := r.setCookie("remember_token"); !strings.Contains(c, "Max-Age=86400") {
		t.Fatalf("remember cookie not refreshed: %q", r.cookies)
	}
	a.clock.Add(20 * time.Hour) // 40h after login, 20h after the refresh
	delete(j, "session")
	if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("refreshed token: %q", r.body)
	}
	// A user who did not ask to be remembered gets no token.
	k := jar{}
	a.get(t, k, "/login/7", uaA)
	if r := a.get(t, k, "/whoami", uaA); r.setCookie("remember_token") != "" {
		t.Fatalf("refresh minted a token: %q", r.cookies)
	}
}

func TestRememberCookieAttributes(t *testing.T) {
	a := newApp(t, Config{Tokens: NewMemoryTokens(nil)}, false)
	r := a.get(t, jar{}, "/login/42?remember=1", uaA)
	c := r.setCookie("remember_token")
	for _, want := range []string{"; Expires=", "; Max-Age=31536000", "; HttpOnly", "; Path=/", "; SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Errorf("remember cookie %q lacks %q", c, want)
		}
	}
}

func TestConfigLimits(t *testing.T) {
	if _, err := New(Config{LoadUser: loadVectorUser, Keys: [][]byte{rememberKey}, RememberDuration: 401 * 24 * time.Hour}); !errors.Is(err, ErrConfig) {
		t.Errorf("401 days accepted: %v", err)
	}
	if _, err := New(Config{LoadUser: loadVectorUser}); !errors.Is(err, ErrConfig) {
		t.Errorf("no Keys nor Tokens accepted: %v", err)
	}
	if _, err := New(Config{LoadUser: loadVectorUser, Remember: RememberFlask}); !errors.Is(err, ErrConfig) {
		t.Errorf("RememberFlask without a key accepted: %v", err)
	}
	if _, err := New(Config{LoadUser: loadVectorUser, Keys: [][]byte{[]byte("short")}}); !errors.Is(err, ErrConfig) {
		t.Errorf("short key accepted: %v", err)
	}
	if _, err := New(Config{Keys: [][]byte{rememberKey}}); !errors.Is(err, ErrConfig) {
		t.Errorf("no LoadUser accepted: %v", err)
	}
}

func TestDurationClamped(t *testing.T) {
	lm, err := New(Config{LoadUser: loadVectorUser, Tokens: NewMemoryTokens(nil), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{sessionKey}, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(sm.Handler(lm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LoginUser(w, r, testUser("42"), LoginOptions{Remember: true, Duration: 1000 * 24 * time.Hour}); err != nil {
			t.Error(err)
		}
	}))))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var maxAge int
	var secs any
	for _, c := range res.Cookies() {
		switch c.Name {
		case "remember_token":
			maxAge = c.MaxAge
		case "session":
			v, err := seshat.DecodeUnverified(c.Value)
			if err != nil {
				t.Fatal(err)
			}
			secs = v[KeyRememberSeconds]
		}
	}
	if maxAge != int(MaxRememberDuration/time.Second) || secs != MaxRememberDuration.Seconds() {
		t.Fatalf("Max-Age %d, _remember_seconds %v; want both clamped to 400 days", maxAge, secs)
	}
}

type inactiveUser string

func (u inactiveUser) ID() string     { return string(u) }
func (u inactiveUser) IsActive() bool { return false }

func TestLoginErrors(t *testing.T) {
	lm, err := New(Config{LoadUser: loadVectorUser, Keys: [][]byte{rememberKey}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{sessionKey}, Logger: slog.New(slog.DiscardHandler)})
	var errs []error
	var anon string
	mux := http.NewServeMux()
	mux.Handle("/", sm.Handler(lm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs = append(errs,
			lm.LoginUser(w, r, inactiveUser("1"), LoginOptions{}),
			lm.LoginUser(w, r, testUser(""), LoginOptions{}),
			lm.LoginUser(w, r, inactiveUser("1"), LoginOptions{Force: true}),
		)
	}))))
	// Without the middleware.
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) {
		errs = append(errs, lm.LoginUser(w, r, testUser("1"), LoginOptions{}), lm.LogoutUser(w, r), lm.ConfirmLogin(r))
		anon = lm.CurrentUser(r).ID()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, p := range []string{"/", "/bare"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if len(errs) != 6 || !errors.Is(errs[0], ErrInactive) || !errors.Is(errs[1], ErrNoID) || errs[2] != nil {
		t.Fatalf("errors %v", errs)
	}
	for _, err := range errs[3:] {
		if !errors.Is(err, ErrNoMiddleware) {
			t.Fatalf("no middleware: %v", err)
		}
	}
	if anon != "" {
		t.Fatalf("no middleware: user %q", anon)
	}
}

func TestLoaderFailureIs503(t *testing.T) {
	fail := errors.New("db down")
	a := newApp(t, Config{Keys: [][]byte{rememberKey}, LoadUser: func(context.Context, string) (User, error) { return nil, fail }}, false)
	j := jar{}
	a.get(t, j, "/login/42", uaA)
	if r := a.get(t, j, "/private", uaA); r.status != http.StatusServiceUnavailable {
		t.Fatalf("loader failure: %d", r.status)
	}
}

func TestHooks(t *testing.T) {
	var log []string
	var mu sync.Mutex
	add := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	a := newApp(t, Config{
		Keys:     [][]byte{rememberKey},
		OnLogin:  func(_ *http.Request, u User) { add("login " + u.ID()) },
		OnLogout: func(_ *http.Request, u User) { add("logout " + u.ID()) },
		OnLoad: func(_ *http.Request, u User, from Source) {
			add(fmt.Sprintf("load %s %d", u.ID(), from))
		},
	}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	a.get(t, j, "/whoami", uaA)
	delete(j, "session")
	a.get(t, j, "/whoami", uaA)
	a.get(t, j, "/logout", uaA)
	want := fmt.Sprintf("login 42|load 42 %d|load 42 %d|load 42 %d|logout 42", FromSession, FromRemember, FromSession)
	if got := strings.Join(log, "|"); got != want {
		t.Fatalf("hooks %q, want %q", got, want)
	}
}

func TestDestroyOnLogout(t *testing.T) {
	a := newApp(t, Config{Keys: [][]byte{rememberKey}, DestroyOnLogout: true}, true)
	j := jar{}
	a.get(t, j, "/set", uaA)
	a.get(t, j, "/login/42", uaA)
	r := a.get(t, j, "/logout", uaA)
	if c := r.setCookie("session"); !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("session not destroyed: %q", r.cookies)
	}
}

func TestConcurrentUseOfOneTokenIsNoTheft(t *testing.T) {
	store := NewMemoryTokens(nil)
	var thefts atomic.Int32
	a := newApp(t, Config{Tokens: store, OnTheft: func(context.Context, string) { thefts.Add(1) }}, false)
	store.now = a.clock.Now
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	tok := j["remember_token"]
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = a.get(t, jar{"remember_token": tok}, "/whoami", uaA).body
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if b != "42 fresh=false" {
			t.Errorf("request %d: %q", i, b)
		}
	}
	if thefts.Load() != 0 || store.Len() != 1 {
		t.Fatalf("thefts %d, tokens %d", thefts.Load(), store.Len())
	}
}

func TestMemoryTokensSweep(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s := NewMemoryTokens(c.Now)
	ctx := context.Background()
	for i := range 1000 {
		_ = s.Put(ctx, fmt.Sprint(i), Token{UserID: "u", Expires: c.Now().Add(time.Minute)})
		c.Add(time.Second)
	}
	if s.Len() > 2*60+64 {
		t.Fatalf("%d tokens kept, most of them expired", s.Len())
	}
	if _, err := s.Get(ctx, "0"); !errors.Is(err, ErrTokenNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	if _, err := s.Get(ctx, "999"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.DeleteUser(ctx, "u"); n == 0 || s.Len() != 0 {
		t.Fatalf("DeleteUser removed %d, %d left", n, s.Len())
	}
}

func TestRememberTokenOfDeletedUser(t *testing.T) {
	store := NewMemoryTokens(nil)
	a := newApp(t, Config{Tokens: store}, false)
	j := jar{}
	a.get(t, j, "/login/99?remember=1", uaA) // 99 is unknown to LoadUser
	if store.Len() != 1 {
		t.Fatalf("%d tokens", store.Len())
	}
	delete(j, "session")
	r := a.get(t, j, "/whoami", uaA)
	if r.body != "anonymous" || !strings.Contains(r.setCookie("remember_token"), "Max-Age=0") {
		t.Fatalf("token of a deleted user: %q %q", r.body, r.cookies)
	}
	if store.Len() != 0 {
		t.Fatalf("token of a deleted user kept: %d", store.Len())
	}
}

func TestSignedTokenRefresh(t *testing.T) {
	a := newApp(t, Config{Keys: [][]byte{rememberKey}, RememberRefreshEachRequest: true, RememberDuration: 24 * time.Hour}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	first := j["remember_token"]
	a.clock.Add(20 * time.Hour)
	r := a.get(t, j, "/whoami", uaA)
	if c := r.setCookie("remember_token"); !strings.Contains(c, "Max-Age=86400") || j["remember_token"] == first {
		t.Fatalf("signed token not refreshed: %q", r.cookies)
	}
	a.clock.Add(20 * time.Hour)
	if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("refreshed signed token: %q", r.body)
	}
	if r := a.get(t, jar{"remember_token": first}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("expired first token: %q", r.body)
	}
}

func TestUnauthorizedVariants(t *testing.T) {
	mk := func(cfg Config) (*Manager, http.Handler) {
		cfg.LoadUser = loadVectorUser
		cfg.Keys = [][]byte{rememberKey}
		cfg.Logger = slog.New(slog.DiscardHandler)
		lm, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sm, _ := seshat.New(seshat.Config{Keys: [][]byte{sessionKey}, Logger: slog.New(slog.DiscardHandler)})
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
		mux := http.NewServeMux()
		mux.Handle("/req", lm.Required(ok))
		mux.Handle("/fresh", lm.FreshRequired(ok))
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			_ = lm.LoginUser(w, r, testUser("42"), LoginOptions{NotFresh: true})
		})
		return lm, sm.Handler(lm.Handler(mux))
	}
	run := func(h http.Handler, method, path string, j jar) result {
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for k, v := range j {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		res, err := (&http.Client{CheckRedirect: noRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, c := range res.Cookies() {
			j[c.Name] = c.Value
		}
		return result{status: res.StatusCode, body: string(b), loc: res.Header.Get("Location")}
	}
	// No LoginURL or RefreshURL: 401, as Flask-Login's abort(401).
	_, h := mk(Config{})
	if r := run(h, "GET", "/req", jar{}); r.status != 401 {
		t.Errorf("no LoginURL: %d", r.status)
	}
	if r := run(h, "GET", "/fresh", jar{}); r.status != 401 {
		t.Errorf("anonymous fresh, no LoginURL: %d", r.status)
	}
	if r := run(h, "OPTIONS", "/fresh", jar{}); r.status != 200 {
		t.Errorf("OPTIONS fresh: %d", r.status)
	}
	if r := run(h, "OPTIONS", "/req", jar{}); r.status != 200 {
		t.Errorf("OPTIONS req: %d", r.status)
	}
	j := jar{}
	run(h, "GET", "/login", j)
	if r := run(h, "GET", "/fresh", j); r.status != 401 {
		t.Errorf("stale login, no RefreshURL: %d", r.status)
	}
	// Custom handlers.
	teapot := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	_, h = mk(Config{Unauthorized: teapot, NeedsRefresh: teapot})
	if r := run(h, "GET", "/req", jar{}); r.status != http.StatusTeapot {
		t.Errorf("Unauthorized handler: %d", r.status)
	}
	j = jar{}
	run(h, "GET", "/login", j)
	if r := run(h, "GET", "/fresh", j); r.status != http.StatusTeapot {
		t.Errorf("NeedsRefresh handler: %d", r.status)
	}
	// A login page on another host gets the full URL as next.
	_, h = mk(Config{LoginURL: "https://accounts.example/login?lang=en#top", NoFlash: true})
	r := run(h, "GET", "/req?a=1", jar{})
	if !strings.HasPrefix(r.loc, "https://accounts.example/login?lang=en&next=http%3A%2F%2F127.0.0.1%3A") || !strings.HasSuffix(r.loc, "%2Freq%3Fa%3D1#top") {
		t.Errorf("cross-host login URL: %q", r.loc)
	}
}

func TestFlushSendsRememberCookie(t *testing.T) {
	lm, err := New(Config{LoadUser: loadVectorUser, Tokens: NewMemoryTokens(nil), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{sessionKey}, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(sm.Handler(lm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LoginUser(w, r, testUser("42"), LoginOptions{Remember: true}); err != nil {
			t.Error(err)
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, "streamed")
	}))))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var names []string
	for _, c := range res.Cookies() {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "remember_token,session" {
		t.Fatalf("cookies after Flush: %v", names)
	}
}

func TestSessionStoreTokens(t *testing.T) {
	ms := memstore.New(memstore.Options{})
	defer ms.Close()
	var thefts atomic.Int32
	a := newApp(t, Config{Tokens: SessionStoreTokens(ms), OnTheft: func(context.Context, string) { thefts.Add(1) }}, false)
	ctx := context.Background()
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	c1 := j["remember_token"]
	if infos, _ := ms.ListByUser(ctx, RememberOwnerPrefix+"42"); len(infos) != 1 {
		t.Fatalf("tokens listed under the owner: %v", infos)
	}
	if infos, _ := ms.ListByUser(ctx, "42"); len(infos) != 0 {
		t.Fatalf("a token is listed as a session: %v", infos)
	}
	delete(j, "session")
	if r := a.get(t, j, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("remember login: %q", r.body)
	}
	c2 := j["remember_token"]
	if c2 == c1 {
		t.Fatal("not rotated")
	}
	// Grace, then theft.
	if r := a.get(t, jar{"remember_token": c1}, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("grace: %q", r.body)
	}
	a.clock.Add(time.Minute)
	if r := a.get(t, jar{"remember_token": c1}, "/whoami", uaA); r.body != "anonymous" || thefts.Load() != 1 {
		t.Fatalf("theft: %q, %d", r.body, thefts.Load())
	}
	if r := a.get(t, jar{"remember_token": c2}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("current token after theft: %q", r.body)
	}
	// Logout revokes; RevokeRemembered revokes all.
	k := jar{}
	a.get(t, k, "/login/42?remember=1", uaA)
	copied := jar{"remember_token": k["remember_token"]}
	a.get(t, k, "/logout", uaA)
	if r := a.get(t, copied, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("after logout: %q", r.body)
	}
	a.get(t, k, "/login/42?remember=1", uaA)
	if err := a.lm.RevokeRemembered(ctx, "42"); err != nil {
		t.Fatal(err)
	}
	if r := a.get(t, jar{"remember_token": k["remember_token"]}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("after RevokeRemembered: %q", r.body)
	}
}

// TestLogoutEverywhere: one call ends every session of the user and every
// remember token, on every device; another user keeps theirs.
func TestLogoutEverywhere(t *testing.T) {
	ms := memstore.New(memstore.Options{})
	defer ms.Close()
	a := newAppOn(t, Config{Tokens: SessionStoreTokens(ms)}, ms)
	laptop, phone, other := jar{}, jar{}, jar{}
	a.get(t, laptop, "/login/42?remember=1", uaA)
	a.get(t, phone, "/login/42?remember=1", uaA)
	a.get(t, other, "/login/7?remember=1", uaA)
	n, err := a.lm.LogoutEverywhere(context.Background(), ms, "42")
	if err != nil || n != 2 {
		t.Fatalf("LogoutEverywhere = %d, %v; want 2 sessions", n, err)
	}
	for name, j := range map[string]jar{"laptop": laptop, "phone": phone} {
		if r := a.get(t, j, "/whoami", uaA); r.body != "anonymous" {
			t.Fatalf("%s still logged in: %q", name, r.body)
		}
		if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body != "anonymous" {
			t.Fatalf("%s's remember cookie still logs in: %q", name, r.body)
		}
	}
	if r := a.get(t, other, "/whoami", uaA); r.body != "7 fresh=true" {
		t.Fatalf("another user was logged out: %q", r.body)
	}
	if _, err := a.lm.LogoutEverywhere(context.Background(), noIndexStore{ms}, "7"); !errors.Is(err, ErrNoUserIndex) {
		t.Fatalf("store without a user index: %v", err)
	}
}

// noIndexStore hides memstore's UserIndex.
type noIndexStore struct{ s *memstore.Store }

func (n noIndexStore) Load(ctx context.Context, k string) (*seshat.Record, error) {
	return n.s.Load(ctx, k)
}
func (n noIndexStore) Save(ctx context.Context, k string, r *seshat.Record) error {
	return n.s.Save(ctx, k, r)
}
func (n noIndexStore) Delete(ctx context.Context, k string) error { return n.s.Delete(ctx, k) }
func (n noIndexStore) Close() error                               { return nil }
