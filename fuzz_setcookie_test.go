package seshat_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// FuzzSetCookieHeader (CK-08, RFC 6265bis cookie-octet grammar): whatever
// a handler stores (any key, any string, permanent or not, in both modes),
// every Set-Cookie seshat writes parses back to a cookie of the configured
// name whose value holds only cookie-octets and that http.Cookie.Valid
// accepts; no control character reaches the header. Go's cookie writer
// would silently strip invalid bytes, seshat writes the header itself.
func FuzzSetCookieHeader(f *testing.F) {
	store := memstore.New(memstore.Options{SweepInterval: -1})
	f.Cleanup(func() { store.Close() })
	cfg := seshat.Config{Keys: [][]byte{testKey}, Cookie: seshat.CookieOptions{Name: "__Host-s", Secure: seshat.SecureAlways}}
	cookieMode, err := seshat.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	cfg.Store = store
	storeMode, err := seshat.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("user", "alice", false, false)
	f.Add("k;ey", "v\r\nSet-Cookie: x=y", true, false)
	f.Add("\x00", "\"quoted\" , ; \\ \x7f é", true, true)
	f.Add("", strings.Repeat("<script>", 300), false, true)
	f.Fuzz(func(t *testing.T, key, val string, permanent, stored bool) {
		m := cookieMode
		if stored {
			m = storeMode
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := seshat.FromContext(r.Context())
			_ = s.Set(key, val)
			s.SetPermanent(permanent)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		for _, line := range rec.Header().Values("Set-Cookie") {
			if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("control character in %q", line)
			}
			c, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if err := c.Valid(); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if c.Name != "__Host-s" || !c.Secure || c.Path != "/" || c.Domain != "" {
				t.Fatalf("attributes changed: %q", line)
			}
			nameValue, _, _ := strings.Cut(line, ";")
			value := strings.TrimPrefix(nameValue, "__Host-s=")
			for i := 0; i < len(value); i++ {
				if !cookieOctet(value[i]) {
					t.Fatalf("byte %#x at %d of the value is not a cookie-octet: %q", value[i], i, line)
				}
			}
		}
	})
}

// cookieOctet is RFC 6265's cookie-octet: %x21 / %x23-2B / %x2D-3A /
// %x3C-5B / %x5D-7E (no CTLs, whitespace, DQUOTE, comma, semicolon or
// backslash).
func cookieOctet(b byte) bool {
	return b == 0x21 || 0x23 <= b && b <= 0x2B || 0x2D <= b && b <= 0x3A || 0x3C <= b && b <= 0x5B || 0x5D <= b && b <= 0x7E
}
