package seshat_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// The request-path benchmarks run the routes of bench/cmd/benchserver through
// Manager.Handler with an in-memory ResponseWriter: what the middleware and
// the session add to one request, without the network. The session is the
// benchserver's (user_id, csrf_token, theme, cart), logged in once.

// benchRoutes returns the benchserver's /login, /read and /write handlers.
func benchRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("user_id", "42")
		s.Set("csrf_token", "3f786850e387550fdab836ed7e6dc881de23001b")
		s.Set("theme", "dark")
		s.Set("cart", []int{1, 2, 3})
		if r.URL.RawQuery == "permanent=1" {
			s.SetPermanent(true)
		}
		w.Write([]byte("logged in\n"))
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if seshat.GetOr(s, "user_id", "") == "" || seshat.GetOr(s, "csrf_token", "") == "" ||
			seshat.GetOr(s, "theme", "") == "" || len(seshat.GetOr[[]int](s, "cart", nil)) != 3 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		t := seshat.GetOr(s, "theme", "")
		if t == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if t == "dark" {
			t = "light"
		} else {
			t = "dark"
		}
		s.Set("theme", t)
		w.Write([]byte("ok\n"))
	})
	return mux
}

// statusWriter is a ResponseWriter that keeps only the header and status.
type statusWriter struct {
	h    http.Header
	code int
}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func benchRequest(b *testing.B, cfg seshat.Config, route string) {
	b.ReportAllocs()
	cfg.Keys = [][]byte{floorKey}
	m, err := seshat.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(benchRoutes())
	rec := httptest.NewRecorder()
	login := "/login"
	if route == "/read-permanent" {
		login, route = "/login?permanent=1", "/read"
	}
	h.ServeHTTP(rec, httptest.NewRequest("GET", login, nil))
	cookie := rec.Result().Cookies()[0]
	r := httptest.NewRequest("GET", route, nil)
	if route != "/login" {
		r.Header.Set("Cookie", cookie.Name+"="+cookie.Value)
	}
	w := &statusWriter{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkRequestCookieLogin makes a new session from no cookie, as every
// /login request of bench/run.sh does.
func BenchmarkRequestCookieLogin(b *testing.B) { benchRequest(b, seshat.Config{}, "/login") }
func BenchmarkRequestCookieRead(b *testing.B)  { benchRequest(b, seshat.Config{}, "/read") }
func BenchmarkRequestCookieWrite(b *testing.B) { benchRequest(b, seshat.Config{}, "/write") }

// The Uncached variants parse every cookie (Config.ParsedCookies < 0): what
// the cache of parsed payloads saves.
func BenchmarkRequestCookieReadUncached(b *testing.B) {
	benchRequest(b, seshat.Config{ParsedCookies: -1}, "/read")
}
func BenchmarkRequestCookieWriteUncached(b *testing.B) {
	benchRequest(b, seshat.Config{ParsedCookies: -1}, "/write")
}

// The ReadPermanent variants read a permanent session, which Flask re-issues
// on every request (a new signature and Expires each time): the save a read
// then costs, and what the cache of re-issued headers saves when the same
// session comes back within the second.
func BenchmarkRequestCookieReadPermanent(b *testing.B) {
	benchRequest(b, seshat.Config{}, "/read-permanent")
}
func BenchmarkRequestCookieReadPermanentUncached(b *testing.B) {
	benchRequest(b, seshat.Config{ParsedCookies: -1}, "/read-permanent")
}
func BenchmarkRequestMemstoreRead(b *testing.B) {
	benchRequest(b, seshat.Config{Store: memstore.New(memstore.Options{SweepInterval: -1})}, "/read")
}
func BenchmarkRequestMemstoreWrite(b *testing.B) {
	benchRequest(b, seshat.Config{Store: memstore.New(memstore.Options{SweepInterval: -1})}, "/write")
}
