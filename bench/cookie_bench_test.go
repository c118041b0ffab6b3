package bench

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/benchfloor"
	"github.com/seshat-go/seshat/internal/cputime"
)

// The cookie micro-benchmarks do the work of one request with a cookie
// session: decode the cookie, change one value (theme), encode it again.
// Compare them with
//
//	go test -run '^$' -bench Cookie -count 10 ./bench | benchstat -col /impl -
//
// (each benchmark is Cookie/impl=NAME so benchstat puts them side by side).

var (
	aesKey32 = []byte("bench-aes-key-32-bytes-long-0001")
	cookieAt = time.Unix(1710000000, 0)
)

// cookieImpl is one way to do a request's cookie work; newRound returns a
// function doing one decode + change + encode, and the value it read for
// theme before changing it.
type cookieImpl struct {
	name     string
	newRound func(testing.TB) func() (theme string, err error)
}

var cookieImpls = []cookieImpl{
	// floor is the hand-written reference (package internal/benchfloor).
	{"floor", func(tb testing.TB) func() (string, error) {
		val, err := benchfloor.Encode(benchfloor.Session(), cookieAt.Unix())
		if err != nil {
			tb.Fatal(err)
		}
		return func() (string, error) {
			m, err := benchfloor.Decode(val)
			if err != nil {
				return "", err
			}
			t, _ := m["theme"].(string)
			m["theme"] = "light"
			_, err = benchfloor.Encode(m, cookieAt.Unix())
			return t, err
		}
	}},
	// seshat-codec is CookieCodec alone: Flask-exact decode and encode
	// (itsdangerous key derivation, tagged JSON, zlib when it pays).
	{"seshat-codec", func(tb testing.TB) func() (string, error) {
		c, err := seshat.NewCookieCodec([][]byte{benchfloor.Key}, "")
		if err != nil {
			tb.Fatal(err)
		}
		val, err := c.Encode(benchfloor.Session(), cookieAt)
		if err != nil {
			tb.Fatal(err)
		}
		buf := make([]byte, 0, 512)
		return func() (string, error) {
			m, err := c.Decode(val, time.Hour, cookieAt)
			if err != nil {
				return "", err
			}
			t, _ := m["theme"].(string)
			m["theme"] = "light"
			buf, err = c.AppendEncode(buf[:0], m, cookieAt)
			return t, err
		}
	}},
	// seshat-manager is what a handler pays: Manager.Load from the Cookie
	// header, Set, Manager.Save writing Set-Cookie and Vary. Every op sends
	// the same cookie, so after the first its load is a hit in the cache of
	// parsed payloads (Config.ParsedCookies): what a client that resends its
	// cookie costs.
	{"seshat-manager", managerRound(0)},
	// seshat-manager-uncached verifies and parses the cookie on every op,
	// as the floor does.
	{"seshat-manager-uncached", managerRound(-1)},
	// gorilla-hmac is gorilla/securecookie as CookieStore uses it with one
	// key: gob, HMAC-SHA256, base64.
	{"gorilla-hmac", gorillaRound(nil)},
	// gorilla-aes adds AES-256-CTR encryption (CookieStore with two keys).
	{"gorilla-aes", gorillaRound(aesKey32)},
}

// managerRound is the seshat-manager round with Config.ParsedCookies set
// to parsed.
func managerRound(parsed int) func(testing.TB) func() (string, error) {
	return func(tb testing.TB) func() (string, error) {
		m, err := seshat.New(seshat.Config{Keys: [][]byte{benchfloor.Key}, ParsedCookies: parsed})
		if err != nil {
			tb.Fatal(err)
		}
		val, err := m.Codec().Encode(benchfloor.Session(), time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		r, err := http.NewRequest("GET", "http://example.com/", nil)
		if err != nil {
			tb.Fatal(err)
		}
		r.Header.Set("Cookie", m.CookieName()+"="+val)
		w := &discardWriter{h: http.Header{}}
		return func() (string, error) {
			clear(w.h)
			s, err := m.Load(r.Context(), r)
			if err != nil {
				return "", err
			}
			t := seshat.GetOr(s, "theme", "")
			if err := s.Set("theme", "light"); err != nil {
				return "", err
			}
			return t, m.Save(r.Context(), w, s)
		}
	}
}

// gorillaSession is benchfloor.Session as gorilla/sessions keeps it.
func gorillaSession() map[any]any {
	return map[any]any{"_fresh": true, "_user_id": "42", "csrf_token": "3f786850e387550fdab836ed7e6dc881de23001b", "cart": []int{1, 2, 3}, "theme": "dark"}
}

func gorillaRound(blockKey []byte) func(testing.TB) func() (string, error) {
	return func(tb testing.TB) func() (string, error) {
		sc := securecookie.New(benchfloor.Key, blockKey)
		val, err := sc.Encode("session", gorillaSession())
		if err != nil {
			tb.Fatal(err)
		}
		return func() (string, error) {
			m := map[any]any{}
			if err := sc.Decode("session", val, &m); err != nil {
				return "", err
			}
			t, _ := m["theme"].(string)
			m["theme"] = "light"
			_, err := sc.Encode("session", m)
			return t, err
		}
	}
}

// BenchmarkCookie runs every implementation as a sub-benchmark.
func BenchmarkCookie(b *testing.B) {
	for _, impl := range cookieImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			round := impl.newRound(b)
			loop(b, func() error { _, err := round(); return err })
		})
	}
}

// loop runs op b.N times and reports, beside the wall clock, the process's
// CPU time per op (cpu-ns/op): on a shared machine the wall clock stretches
// with other jobs' load, CPU time much less.
func loop(b *testing.B, op func() error) {
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}

// TestCookieImplsDoTheWork checks that every benchmarked implementation
// reads the session it was given and encodes the change without error, so
// that none is fast because it skips work.
func TestCookieImplsDoTheWork(t *testing.T) {
	for _, impl := range cookieImpls {
		t.Run(impl.name, func(t *testing.T) {
			round := impl.newRound(t)
			for range 2 {
				theme, err := round()
				if err != nil {
					t.Fatal(err)
				}
				if theme != "dark" {
					t.Fatalf("read theme %q, want dark", theme)
				}
			}
		})
	}
}

// discardWriter keeps headers and drops the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
