package seshat_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

// benchSession is the small session every benchmark uses: what a logged-in
// Flask user with a CSRF token and a cart carries.
func benchSession() map[string]any {
	return map[string]any{
		"_fresh":     true,
		"_user_id":   "42",
		"csrf_token": "3f786850e387550fdab836ed7e6dc881de23001b",
		"cart":       []any{int64(1), int64(2), int64(3)},
		"theme":      "dark",
	}
}

var floorKey = []byte("0123456789abcdef0123456789abcdef")

// floorEncode is the hand-written floor: encoding/json, base64url, one
// HMAC-SHA1, in Flask's value.timestamp.signature layout.
func floorEncode(m map[string]any, ts int64) string {
	js, _ := json.Marshal(m)
	var tsb [8]byte
	binary.BigEndian.PutUint64(tsb[:], uint64(ts))
	signed := base64.RawURLEncoding.EncodeToString(js) + "." + base64.RawURLEncoding.EncodeToString(bytes.TrimLeft(tsb[:], "\x00"))
	mac := hmac.New(sha1.New, floorKey)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func floorDecode(v string) (map[string]any, error) {
	i := bytes.LastIndexByte([]byte(v), '.')
	if i < 0 {
		return nil, errors.New("no sig")
	}
	sig, err := base64.RawURLEncoding.DecodeString(v[i+1:])
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha1.New, floorKey)
	mac.Write([]byte(v[:i]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("bad sig")
	}
	j := bytes.IndexByte([]byte(v), '.')
	js, err := base64.RawURLEncoding.DecodeString(v[:j])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(js, &m)
}

// BenchmarkFloorRoundTrip is the reference: decode a cookie, change one value,
// encode it again, by hand.
func BenchmarkFloorRoundTrip(b *testing.B) {
	b.ReportAllocs()
	val := floorEncode(benchSession(), 1710000000)
	for b.Loop() {
		m, err := floorDecode(val)
		if err != nil {
			b.Fatal(err)
		}
		m["theme"] = "light"
		_ = floorEncode(m, 1710000000)
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
