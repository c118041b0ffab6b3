package seshat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// serveOnce runs one request with cookie value val through m and returns the
// session the handler saw (without touching it unless touch is set) and the
// response.
func serveOnce(t *testing.T, m *Manager, val string, touch bool) (*Session, *http.Response) {
	t.Helper()
	var seen *Session
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = FromContext(r.Context())
		if touch {
			seen.Get("x")
		}
		io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	if val != "" {
		req.Header.Set("Cookie", "session="+val)
	}
	h.ServeHTTP(rec, req)
	return seen, rec.Result()
}

// TestUntouchedSessionDoesNoCrypto proves the lazy path: a request that never
// touches a non-permanent session never verifies (or even decodes) its
// cookie, and answers no session headers.
func TestUntouchedSessionDoesNoCrypto(t *testing.T) {
	now := time.Unix(1710000000, 0)
	m, err := New(Config{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := m.codec.Encode(map[string]any{"user": "alice"}, now)
	perm, _ := m.codec.Encode(map[string]any{"user": "alice", "_permanent": true}, now)

	s, resp := serveOnce(t, m, plain, false)
	if s.loaded || s.values != nil {
		t.Fatal("an untouched non-permanent session was loaded")
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 || resp.Header.Get("Vary") != "" {
		t.Fatalf("untouched session wrote headers: %v", resp.Header)
	}

	// Flask re-issues a permanent session on every request: that needs the
	// cookie verified, and nothing more.
	s, resp = serveOnce(t, m, perm, false)
	if !s.loaded || len(resp.Header.Values("Set-Cookie")) != 1 || resp.Header.Get("Vary") != "Cookie" {
		t.Fatalf("permanent session not refreshed: loaded=%v %v", s.loaded, resp.Header)
	}

	// A forged cookie that merely claims to be permanent is verified and
	// dropped, and nothing is issued.
	forged := perm[:len(perm)-4] + "AAAA"
	_, resp = serveOnce(t, m, forged, false)
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatal("a forged permanent cookie was re-issued")
	}

	// Touching a non-permanent session loads it and adds Vary only.
	s, resp = serveOnce(t, m, plain, true)
	if !s.loaded || len(resp.Header.Values("Set-Cookie")) != 0 || resp.Header.Get("Vary") != "Cookie" {
		t.Fatalf("touched: loaded=%v %v", s.loaded, resp.Header)
	}
}

// TestUntouchedAllocations keeps the untouched path cheap.
func TestUntouchedAllocations(t *testing.T) {
	m, _ := New(Config{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	plain, _ := m.codec.Encode(map[string]any{"user": "alice"}, time.Now())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "session="+plain)
	w := &discardWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
	// The session, the wrapped writer, the context and the request copy.
	if allocs > 8 {
		t.Fatalf("untouched request: %v allocations", allocs)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
