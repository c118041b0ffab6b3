package seshat_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// TestEncryptCookieOverHTTP: with EncryptCookie a session round-trips
// through the browser as a sealed cookie that neither Flask's format nor
// a plain reader can open; a signed (Flask) cookie is refused; a permanent
// session is refreshed on untouched requests like a signed one.
func TestEncryptCookieOverHTTP(t *testing.T) {
	m := newManager(t, func(c *seshat.Config) { c.EncryptCookie = true })
	c := newClient(t, m, routes())
	resp, _ := c.get("/set")
	if c.cookie == "" || strings.Contains(c.cookie, ".") || resp.Header.Get("Cache-Control") != "private" {
		t.Fatalf("sealed cookie %q, Cache-Control %q", c.cookie, resp.Header.Get("Cache-Control"))
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("sealed session read back as %q", body)
	}
	if _, err := seshat.DecodeUnverified(c.cookie); err == nil {
		t.Fatal("a sealed cookie decoded as a Flask cookie")
	}
	// A Flask (signed) cookie for the same keys is not accepted.
	signed := newClient(t, newManager(t, nil), routes())
	signed.get("/set")
	c.cookie = signed.cookie
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("signed cookie accepted by an encrypting manager: %q", body)
	}
	// Untouched request, permanent session: re-sealed with a new Expires.
	c.cookie = ""
	c.get("/perm")
	before := c.cookie
	resp, _ = c.get("/noop")
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "Expires=") || c.cookie == before {
		t.Fatalf("permanent sealed session not refreshed: %q", resp.Header.Get("Set-Cookie"))
	}
	// Untouched, non-permanent: nothing sent.
	c.cookie = ""
	c.get("/set")
	if resp, _ = c.get("/noop"); resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("untouched non-permanent sealed session re-sent: %q", resp.Header.Get("Set-Cookie"))
	}
}

// TestEncryptCookieConfig: EncryptCookie is refused with a Store (the
// cookie holds only an id) and with FlaskCompression.
func TestEncryptCookieConfig(t *testing.T) {
	for _, cfg := range []seshat.Config{
		{Keys: [][]byte{testKey}, EncryptCookie: true, Store: memstore.New(memstore.Options{SweepInterval: -1})},
		{Keys: [][]byte{testKey}, EncryptCookie: true, FlaskCompression: true},
	} {
		if _, err := seshat.New(cfg); !errors.Is(err, seshat.ErrConfig) {
			t.Fatalf("New: %v, want ErrConfig", err)
		}
	}
}

// ExampleConfig_encryptCookie shows a cookie-mode session whose contents
// the client cannot read: the browser holds only ciphertext.
func ExampleConfig_encryptCookie() {
	m, err := seshat.New(seshat.Config{
		Keys:          [][]byte{[]byte("a-32-byte-or-longer-random-key-0001")},
		EncryptCookie: true, // AES-256-GCM; Flask cannot read these cookies
	})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if r.URL.Path == "/set" {
			s.Set("api_token", "tok-12345")
			return
		}
		fmt.Fprint(w, seshat.GetOr(s, "api_token", "none"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/set", nil))
	cookie := rec.Result().Cookies()[0]
	raw, _ := base64.RawURLEncoding.DecodeString(cookie.Value)
	fmt.Println("token visible in the cookie:", strings.Contains(string(raw), "tok-12345"))

	req := httptest.NewRequest("GET", "/get", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("token read back:", rec.Body.String())
	// Output:
	// token visible in the cookie: false
	// token read back: tok-12345
}
