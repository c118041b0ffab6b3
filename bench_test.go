package seshat_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/benchfloor"
)

// benchSession, floorKey and the floor itself come from internal/benchfloor,
// so these benchmarks and the bench module's measure against the same code.
var (
	benchSession = benchfloor.Session
	floorKey     = benchfloor.Key
)

// BenchmarkFloorRoundTrip is the reference: decode a cookie, change one value,
// encode it again, by hand.
func BenchmarkFloorRoundTrip(b *testing.B) {
	b.ReportAllocs()
	val, err := benchfloor.Encode(benchSession(), 1710000000)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m, err := benchfloor.Decode(val)
		if err != nil {
			b.Fatal(err)
		}
		m["theme"] = "light"
		if _, err := benchfloor.Encode(m, 1710000000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecRoundTrip is the same work with seshat's Flask codec.
func BenchmarkCodecRoundTrip(b *testing.B) {
	b.ReportAllocs()
	c, _ := seshat.NewCookieCodec([][]byte{floorKey}, "")
	now := time.Unix(1710000000, 0)
	val, _ := c.Encode(benchSession(), now)
	buf := make([]byte, 0, 512)
	for b.Loop() {
		m, err := c.Decode(val, time.Hour, now)
		if err != nil {
			b.Fatal(err)
		}
		m["theme"] = "light"
		buf, _ = c.AppendEncode(buf[:0], m, now)
	}
}

// BenchmarkManagerRoundTrip is what a request pays: load the session from the
// Cookie header, Set one value, and write Set-Cookie and Vary.
func BenchmarkManagerRoundTrip(b *testing.B) {
	b.ReportAllocs()
	m, _ := seshat.New(seshat.Config{Keys: [][]byte{floorKey}})
	val, _ := m.Codec().Encode(benchSession(), time.Now())
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "session="+val)
	w := &headerWriter{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		s, _ := m.Load(r.Context(), r)
		s.Set("theme", "light")
		if err := m.Save(r.Context(), w, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddlewareUntouched is a request that never touches its session.
func BenchmarkMiddlewareUntouched(b *testing.B) {
	b.ReportAllocs()
	m, _ := seshat.New(seshat.Config{Keys: [][]byte{floorKey}})
	val, _ := m.Codec().Encode(benchSession(), time.Now())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "session="+val)
	w := &headerWriter{h: http.Header{}}
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerWriter) WriteHeader(int)             {}
