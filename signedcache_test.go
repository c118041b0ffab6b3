package seshat

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// saveHeader runs one request through m's middleware that sets the session
// to values (and makes it permanent when asked) and returns its Set-Cookie.
func saveHeader(t *testing.T, m *Manager, values map[string]any, permanent, overTLS bool) string {
	t.Helper()
	return setCookieOf(t, m, "", overTLS, func(s *Session) {
		for k, v := range values {
			if err := s.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		s.SetPermanent(permanent)
	})
}

// refreshHeader sends cookie (a Set-Cookie line) back to m on a request
// whose handler only reads the session, and returns the Set-Cookie that
// re-issues it (a permanent session is re-issued on every request).
func refreshHeader(t *testing.T, m *Manager, setCookie string, overTLS bool) string {
	t.Helper()
	return setCookieOf(t, m, strings.SplitN(setCookie, ";", 2)[0], overTLS, func(s *Session) { s.Get("user_id") })
}

// setCookieOf serves one request, with cookie as its Cookie header and over
// TLS when asked, through m's middleware to a handler that calls use, and
// returns the one Set-Cookie of the response.
func setCookieOf(t *testing.T, m *Manager, cookie string, overTLS bool, use func(*Session)) string {
	t.Helper()
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		use(FromContext(r.Context()))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	if overTLS {
		r.TLS = &tls.ConnectionState{}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	lines := rec.Header()["Set-Cookie"]
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie %q", lines)
	}
	return lines[0]
}

// clockedManagers returns two Managers with the same keys and the same
// clock, one with the caches and one without, and the clock (Unix
// nanoseconds, a tenth of a second into a second).
func clockedManagers(t *testing.T) (cached, plain *Manager, clock *atomic.Int64) {
	clock = new(atomic.Int64)
	clock.Store(time.Date(2026, 12, 5, 8, 0, 0, 100e6, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	cached = cacheManager(t, func(c *Config) { c.Now = now })
	plain = cacheManager(t, func(c *Config) { c.Now = now; c.ParsedCookies = -1 })
	return cached, plain, clock
}

// The cache of signed headers returns byte for byte what the save builds
// without it, for every input a re-issued header depends on: the session,
// the second (a second later the signature and Expires change), Secure
// (over TLS) and the codec's compression threshold; it is used for
// re-issued sessions, and never for a session the request changed.
func TestSignedHeaderIsWhatTheSaveBuilds(t *testing.T) {
	cached, plain, clock := clockedManagers(t)
	if plain.signed != nil {
		t.Fatal("ParsedCookies < 0 left the signed-header cache on")
	}
	long := map[string]any{"blob": fmt.Sprintf("%0600d", 7)} // past CompressThreshold: compressed
	sessions := []map[string]any{richSession(), {"user_id": "42"}, {"user_id": "43"}, long}
	var cookies []string
	for _, values := range sessions {
		cookies = append(cookies, saveHeader(t, plain, values, true, false))
	}
	steps := []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond, time.Second, 10 * time.Second}
	for _, step := range steps {
		clock.Add(int64(step))
		for i, c := range cookies {
			for _, overTLS := range []bool{false, true} {
				want := refreshHeader(t, plain, c, overTLS)
				for range 2 { // a miss, then a hit
					if got := refreshHeader(t, cached, c, overTLS); got != want {
						t.Fatalf("session %d at +%v, TLS %v:\n got %s\nwant %s", i, step, overTLS, got, want)
					}
				}
			}
		}
	}
	// One header per payload (Secure is not in the payload, so the TLS
	// save replaced the plain one).
	if n := len(cached.signed.m); n != len(sessions) {
		t.Fatalf("cache holds %d headers for the last second, want %d", n, len(sessions))
	}
	// A re-issue takes its header from there: a planted one comes back. A
	// save of a changed session does not, even for the same JSON.
	for k, h := range cached.signed.m {
		h.header = "planted"
		cached.signed.m[k] = h
	}
	if got := saveHeader(t, cached, sessions[1], true, true); got == "planted" {
		t.Fatal("a changed session's save used the cache")
	}
	if got := refreshHeader(t, cached, cookies[1], true); got != "planted" {
		t.Fatalf("re-issue built %s, did not use the cache", got)
	}
	// A changed compression threshold changes the header: not served from
	// the cache.
	cached.Codec().SetCompressThreshold(1 << 20)
	plain.Codec().SetCompressThreshold(1 << 20)
	if got, want := refreshHeader(t, cached, cookies[3], false), refreshHeader(t, plain, cookies[3], false); got != want {
		t.Fatalf("after SetCompressThreshold:\n got %s\nwant %s", got, want)
	}
}

// The cache keeps only the current second, a bounded number of headers,
// and never one for an earlier second than it holds.
func TestSignedCacheSeconds(t *testing.T) {
	c := newSignedCache(2)
	in := headerInputs{expires: noExpires}
	h := signedHeader{in, "a"}
	c.put([]byte("p1"), 10, h)
	if got, ok := c.lookup([]byte("p1"), 10, in); !ok || got != "a" {
		t.Fatalf("lookup in its second: %q %v", got, ok)
	}
	if _, ok := c.lookup([]byte("p1"), 11, in); ok {
		t.Fatal("served a header in a later second")
	}
	for _, other := range []headerInputs{{expires: 5}, {expires: noExpires, secure: true}, {expires: noExpires, minCompress: 1}, {expires: noExpires, maxDecoded: 1}} {
		if _, ok := c.lookup([]byte("p1"), 10, other); ok {
			t.Fatalf("served a header built for other inputs: %+v", other)
		}
	}
	c.put([]byte("p2"), 10, h)
	c.put([]byte("p3"), 10, h)
	if len(c.m) != 2 {
		t.Fatalf("holds %d headers, limit 2", len(c.m))
	}
	c.put([]byte("p4"), 11, h)
	if _, ok := c.lookup([]byte("p1"), 10, in); ok || len(c.m) != 1 {
		t.Fatalf("a new second kept the last one's headers (%d)", len(c.m))
	}
	c.put([]byte("p5"), 9, h) // a request that began before the second turned
	if _, ok := c.lookup([]byte("p5"), 9, in); ok {
		t.Fatal("kept a header of an earlier second")
	}
	if _, ok := c.lookup(make([]byte, maxCachedPayload+1), 11, in); ok {
		t.Fatal("looked up a payload past maxCachedPayload")
	}
}

// Concurrent re-issues of the same and of different sessions in the same
// seconds get the headers an uncached Manager builds (run with -race).
func TestSignedCacheConcurrentSaves(t *testing.T) {
	cached, plain, clock := clockedManagers(t)
	var cookies []string
	for u := range 4 {
		cookies = append(cookies, saveHeader(t, plain, map[string]any{"user_id": fmt.Sprint(u)}, true, false))
	}
	for range 3 {
		want := map[int]string{}
		for u, c := range cookies {
			want[u] = refreshHeader(t, plain, c, false)
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					u := (g + i) % 4
					if got := refreshHeader(t, cached, cookies[u], false); got != want[u] {
						t.Errorf("user %d: got %s, want %s", u, got, want[u])
						return
					}
				}
			})
		}
		wg.Wait()
		clock.Add(int64(time.Second))
	}
}
