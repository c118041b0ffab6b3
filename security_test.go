package seshat_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
)

// CK-05 (ASVS 5.0 3.3.1/3.3.3): with RequirePrefix a Domain needs a
// __Secure- name and a host-only cookie a __Host- name; without it Flask's
// configurations stay valid.
func TestRequirePrefix(t *testing.T) {
	k := [][]byte{testKey}
	opts := func(name, domain string, strict bool) seshat.Config {
		return seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: name, Domain: domain, Secure: seshat.SecureAlways, RequirePrefix: strict}}
	}
	for _, tc := range []struct {
		cfg seshat.Config
		ok  bool
	}{
		{opts("sid", "example.com", true), false},
		{opts("__Host-sid", "example.com", true), false},
		{opts("__Secure-sid", "example.com", true), true},
		{opts("__secure-sid", "example.com", true), true}, // prefixes are case-insensitive
		{opts("sid", "", true), false},
		{opts("__Secure-sid", "", true), false}, // host-only: the stronger __Host- is possible
		{opts("__Host-sid", "", true), true},
		{opts("sid", "example.com", false), true}, // Flask's SESSION_COOKIE_DOMAIN
	} {
		_, err := seshat.New(tc.cfg)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, seshat.ErrConfig) {
			t.Errorf("%q Domain %q: %v", tc.cfg.Cookie.Name, tc.cfg.Cookie.Domain, err)
		}
	}
}

// CK-04 and CK-09 on the wire: a __Host- cookie goes out with Secure,
// Path=/ and no Domain, even on a plain-HTTP hop behind a TLS proxy, and its
// deletion carries the same attributes, or browsers would ignore it.
func TestHostPrefixHeaders(t *testing.T) {
	m := newManager(t, func(c *seshat.Config) {
		c.Cookie = seshat.CookieOptions{Name: "__Host-session", Secure: seshat.SecureAlways, RequirePrefix: true}
	})
	c := newClient(t, m, routes())
	resp, _ := c.get("/set")
	sc := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-session=") || !strings.HasSuffix(sc, "; Secure; HttpOnly; Path=/; SameSite=Lax") || strings.Contains(sc, "Domain") {
		t.Fatalf("set: %q", sc)
	}
	resp, _ = c.get("/logout")
	if sc := resp.Header.Get("Set-Cookie"); sc != "__Host-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/; SameSite=Lax" {
		t.Fatalf("delete: %q", sc)
	}
}

// SID-05 / SID-06: a valid session cookie value sent anywhere but the
// session cookie (query string, form field, X-Session-ID, Authorization, a
// cookie of another name) is ignored: the request is anonymous and any new
// cookie carries another value. Both modes.
func TestIDsOnlyFromTheCookie(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			m := newManager(t, func(c *seshat.Config) {
				if mode == "store" {
					c.Store = newCountingStore()
				}
			})
			c := newClient(t, m, routes())
			c.get("/set")
			valid := c.cookie
			if _, body := c.get("/user"); body != "alice" {
				t.Fatalf("the cookie itself: %q", body)
			}
			for _, tc := range []struct {
				name string
				req  func() *http.Request
			}{
				{"query", func() *http.Request {
					r, _ := http.NewRequest("GET", c.srv.URL+"/user?session="+url.QueryEscape(valid)+"&sid="+url.QueryEscape(valid), nil)
					return r
				}},
				{"form", func() *http.Request {
					r, _ := http.NewRequest("POST", c.srv.URL+"/user", strings.NewReader("session="+url.QueryEscape(valid)))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					return r
				}},
				{"headers", func() *http.Request {
					r, _ := http.NewRequest("GET", c.srv.URL+"/user", nil)
					r.Header.Set("X-Session-ID", valid)
					r.Header.Set("Authorization", "Bearer "+valid)
					r.Header.Set("Session", valid)
					return r
				}},
				{"other cookie name", func() *http.Request {
					r, _ := http.NewRequest("GET", c.srv.URL+"/user", nil)
					r.Header.Set("Cookie", "sid="+valid+"; session_id="+valid)
					return r
				}},
			} {
				resp, err := c.srv.Client().Do(tc.req())
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "anonymous" {
					t.Errorf("%s: %q, want anonymous", tc.name, body)
				}
				if sc := resp.Header.Get("Set-Cookie"); strings.Contains(sc, valid) {
					t.Errorf("%s: response adopted the id: %q", tc.name, sc)
				}
			}
		})
	}
}

// SID-05: the store-failure, oversize and corrupt-record paths log and
// return errors that hold neither the cookie nor the session id, even when
// the store's own error text names the key it was given.
func TestErrorPathsNeverHoldTheID(t *testing.T) {
	var logs logBuffer
	store := newCountingStore()
	m := storeManager(t, store, func(c *seshat.Config) { c.Logger = logs.Logger(); c.MaxRecordSize = 64 })
	var errs []string
	mux := routes()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		if err := seshat.FromContext(r.Context()).Set("big", strings.Repeat("x", 100)); err != nil {
			errs = append(errs, err.Error())
		}
	})
	mux.HandleFunc("/err", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if err := s.Err(); err != nil {
			errs = append(errs, err.Error())
		}
		if err := s.LoadError(); err != nil {
			errs = append(errs, err.Error())
		}
	})
	c := newClient(t, m, mux)
	c.get("/set")
	cookie := c.cookie
	id, _, _ := strings.Cut(cookie, ".")
	if len(id) != 43 {
		t.Fatalf("unexpected cookie shape")
	}
	// A careless driver that puts the key it was given in its error text.
	store.setFail(fmt.Errorf("GET %s: i/o timeout: %w", seshat.StoreKey(id), seshat.ErrStoreUnavailable))
	if resp, _ := c.get("/err"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("outage: %d", resp.StatusCode)
	}
	store.setFail(nil)
	if resp, _ := c.get("/big"); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("oversize: %d", resp.StatusCode)
	}
	c.cookie = cookie[:len(cookie)-2] + "xx" // bad signature
	c.get("/err")
	out := logs.String() + strings.Join(errs, "\n")
	if !strings.Contains(out, "session store failed") || !strings.Contains(out, "record too large") {
		t.Fatalf("error paths not reached:\n%s", out)
	}
	for _, secret := range []string{cookie, id, id[:16], string(testKey)} {
		if strings.Contains(out, secret) {
			t.Fatalf("logs or errors hold %q:\n%s", secret, out)
		}
	}
}

// SC-01: a signed value made for one purpose is refused for another, even
// under the same keys, because every purpose signs with its own salt: a
// Flask-WTF CSRF token, a store-mode id cookie, and a cookie-mode session
// of an app with another Config.Salt are each refused as a session cookie,
// and a cookie-mode session is refused as a store-mode id.
func TestCrossPurposeValuesRefused(t *testing.T) {
	now := time.Unix(1710000000, 0)
	clock := func() time.Time { return now }
	cookieMode := newManager(t, func(c *seshat.Config) { c.Now = clock })
	storeMode := newManager(t, func(c *seshat.Config) { c.Now = clock; c.Store = newCountingStore() })
	otherApp := newManager(t, func(c *seshat.Config) { c.Now = clock; c.Salt = "billing-app" })

	p, err := csrf.New([][]byte{testKey}, csrf.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	csrfToken, err := p.Mint(strings.Repeat("ab", 20), now)
	if err != nil {
		t.Fatal(err)
	}
	sc := newClient(t, storeMode, routes())
	sc.get("/set")
	idCookie := sc.cookie
	otherCookie, _ := otherApp.Codec().Encode(map[string]any{"user": "alice"}, now)
	sessionCookie, _ := cookieMode.Codec().Encode(map[string]any{"user": "alice"}, now)
	if s := loadWith(t, cookieMode, sessionCookie); s.Len() != 1 {
		t.Fatal("control: the session cookie itself does not load")
	}
	for _, tc := range []struct {
		name  string
		m     *seshat.Manager
		value string
	}{
		{"CSRF token as session", cookieMode, csrfToken},
		{"store id as cookie session", cookieMode, idCookie},
		{"other app's session", cookieMode, otherCookie},
		{"cookie session as store id", storeMode, sessionCookie},
		{"CSRF token as store id", storeMode, csrfToken},
	} {
		s := loadWith(t, tc.m, tc.value)
		if s.Len() != 0 || !errors.Is(s.LoadError(), seshat.ErrInvalidCookie) {
			t.Errorf("%s: %d keys, %v", tc.name, s.Len(), s.LoadError())
		}
	}
}
