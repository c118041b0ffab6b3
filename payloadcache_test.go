package seshat

import (
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat/signing"
	"github.com/seshat-go/seshat/taggedjson"
)

var cacheNow = time.Unix(1710000000, 0)

func cacheManager(t testing.TB, mut func(*Config)) *Manager {
	t.Helper()
	cfg := Config{Keys: [][]byte{internalKey}, Now: func() time.Time { return cacheNow }}
	if mut != nil {
		mut(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// richSession holds a value of every kind the tagged JSON decoder returns,
// mutable (dict, list, tuple, bytes, big int) and not.
func richSession() map[string]any {
	big, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	return map[string]any{
		"user_id":  "42",
		"n":        int64(7),
		"f":        1.5,
		"ok":       true,
		"none":     nil,
		"cart":     []any{int64(1), int64(2), []any{"nested"}},
		"prefs":    map[string]any{"theme": "dark", "langs": []any{"en", "fr"}},
		"_flashes": []any{taggedjson.Tuple{"message", "hello"}},
		"raw":      []byte{1, 2, 3},
		"big":      big,
		"html":     taggedjson.Markup("<b>hi</b>"),
		"when":     time.Unix(1700000000, 0).UTC(),
		"uuid":     taggedjson.UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	}
}

// scribble changes, in place, everything mutable that v holds.
func scribble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			scribble(e)
			x[k] = "scribbled"
		}
		x["scribbled"] = true
	case []any:
		for i, e := range x {
			scribble(e)
			x[i] = "scribbled"
		}
	case taggedjson.Tuple:
		scribble([]any(x))
	case []byte:
		for i := range x {
			x[i] ^= 0xff
		}
	case *big.Int:
		x.SetInt64(-7)
	}
}

func marshalled(t testing.TB, v map[string]any) string {
	t.Helper()
	b, err := taggedjson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (c *payloadCache) size() (cur, old int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur), len(c.old)
}

// A cache hit is a private copy: whatever a request does to the values it
// got, in place and however deep, the next request with the same cookie
// sees the session the cookie holds.
func TestParsedCookieHitIsAPrivateCopy(t *testing.T) {
	m := cacheManager(t, nil)
	cookie, err := m.codec.Encode(richSession(), cacheNow)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadsArePrivate(t, m, cookie, func(load int) {
		if cur, _ := m.parsed.size(); cur != 1 {
			t.Fatalf("load %d: %d cached payloads, want 1", load, cur)
		}
	})
}

// checkLoadsArePrivate loads cookie three times through m's cache, changing
// in place everything mutable that each load returned before the next: every
// load must equal an uncached decode of cookie. after, if not nil, runs after
// each load.
func checkLoadsArePrivate(t testing.TB, m *Manager, cookie string, after func(load int)) {
	t.Helper()
	fresh, err := m.codec.Decode(cookie, -1, cacheNow) // no cache
	if err != nil {
		t.Fatalf("the cookie does not decode: %v", err)
	}
	want := marshalled(t, fresh)
	for i := range 3 {
		got, err := m.decodeCookie(cookie, cacheNow)
		if err != nil {
			t.Fatal(err)
		}
		if g := marshalled(t, got); g != want {
			t.Fatalf("load %d: got %s, want %s", i, g, want)
		}
		if after != nil {
			after(i)
		}
		scribble(got)
	}
}

// A cached entry serves only the cookie verified for it or a cookie that
// passes verification itself: a cached payload under a bad signature, an
// expired timestamp or an unknown key is refused exactly as without the
// cache.
func TestParsedCookieIsVerifiedFirst(t *testing.T) {
	m := cacheManager(t, func(c *Config) { c.Lifetime = time.Hour })
	values := map[string]any{"user_id": "42"}
	cookie, err := m.codec.Encode(values, cacheNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.decodeCookie(cookie, cacheNow); err != nil {
		t.Fatal(err)
	}
	body := cookie[:strings.IndexByte(cookie, '.')]
	if cur, _ := m.parsed.size(); cur != 1 {
		t.Fatalf("%d cached payloads, want 1", cur)
	}

	old, _ := m.codec.Encode(values, cacheNow.Add(-2*time.Hour))
	other := cacheManager(t, func(c *Config) { c.Keys = [][]byte{[]byte(strings.Repeat("k", 32))} })
	foreign, _ := other.codec.Encode(values, cacheNow)
	last := cookie[len(cookie)-1]
	flipped := cookie[:len(cookie)-1] + string("AB"[boolIndex(last == 'A')])
	for _, tc := range []struct {
		name, cookie string
		want         error
	}{
		{"tampered signature", flipped, signing.ErrBadSignature},
		{"expired", old, signing.ErrSignatureExpired},
		{"another key", foreign, signing.ErrBadSignature},
		{"body only", body, signing.ErrBadSignature},
	} {
		if !strings.HasPrefix(tc.cookie, body+".") && tc.name != "body only" {
			t.Fatalf("%s: the cookie does not carry the cached payload", tc.name)
		}
		vals, err := m.decodeCookie(tc.cookie, cacheNow)
		if !errors.Is(err, ErrInvalidCookie) || !errors.Is(err, tc.want) || vals != nil {
			t.Errorf("%s: got %v, %v; want %v", tc.name, vals, err, tc.want)
		}
	}

	// The cookie that was verified, sent again: served without a new HMAC,
	// but its age is checked on every request.
	if e := m.parsed.lookup([]byte(body)); e == nil || !e.sameCookie([]byte(cookie)) || e.sameCookie([]byte(flipped)) {
		t.Fatal("the entry should remember exactly the cookie that was verified")
	}
	if v, err := m.decodeCookie(cookie, cacheNow.Add(time.Hour)); err != nil || v["user_id"] != "42" {
		t.Errorf("the verified cookie at its maximum age: %v, %v", v, err)
	}
	for _, at := range []time.Time{cacheNow.Add(time.Hour + time.Second), cacheNow.Add(-time.Second)} {
		v, err := m.decodeCookie(cookie, at)
		if !errors.Is(err, ErrInvalidCookie) || !errors.Is(err, signing.ErrSignatureExpired) || v != nil {
			t.Errorf("the verified cookie at %v: got %v, %v; want expired", at.Sub(cacheNow), v, err)
		}
		var se *signing.Error
		if !errors.As(err, &se) {
			t.Errorf("at %v: the error is not a *signing.Error as without the cache: %v", at.Sub(cacheNow), err)
		}
	}
}

// A new signature of a cached payload (a permanent session re-issued with a
// fresh timestamp) is verified in full, then remembered in place of the old.
func TestParsedCookieResigned(t *testing.T) {
	m := cacheManager(t, nil)
	values := map[string]any{"user_id": "42", "_permanent": true}
	first, _ := m.codec.Encode(values, cacheNow.Add(-time.Minute))
	second, _ := m.codec.Encode(values, cacheNow)
	body := []byte(first[:strings.IndexByte(first, '.')])
	if !strings.HasPrefix(second, string(body)+".") || first == second {
		t.Fatal("both cookies should carry one payload under two signatures")
	}
	for i, c := range []string{first, second, second} {
		if v, err := m.decodeCookie(c, cacheNow); err != nil || v["user_id"] != "42" {
			t.Fatalf("load %d: %v, %v", i, v, err)
		}
	}
	e := m.parsed.lookup(body)
	if e == nil || !e.sameCookie([]byte(second)) || e.sameCookie([]byte(first)) {
		t.Fatal("the entry should now remember the second cookie only")
	}
	if !e.signedAt.Equal(cacheNow) {
		t.Errorf("signedAt %v, want %v", e.signedAt, cacheNow)
	}
	if cur, old := m.parsed.size(); cur+old != 1 {
		t.Errorf("%d entries for one payload", cur+old)
	}
	// The first cookie still verifies (it is valid), in full.
	if _, err := m.decodeCookie(first, cacheNow); err != nil {
		t.Error(err)
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Two generations: a payload read again while in the old generation moves
// to the current one; one not read for a whole generation is dropped.
func TestParsedCookieGenerations(t *testing.T) {
	m := cacheManager(t, func(c *Config) { c.ParsedCookies = 2 })
	cookies := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d"} {
		c, err := m.codec.Encode(map[string]any{"k": k}, cacheNow)
		if err != nil {
			t.Fatal(err)
		}
		cookies[k] = c
	}
	cached := func(k string) bool {
		c := cookies[k]
		body := c[:strings.IndexByte(c, '.')]
		m.parsed.mu.Lock()
		defer m.parsed.mu.Unlock()
		_, inCur := m.parsed.cur[body]
		_, inOld := m.parsed.old[body]
		return inCur || inOld
	}
	load := func(k string) {
		t.Helper()
		v, err := m.decodeCookie(cookies[k], cacheNow)
		if err != nil || v["k"] != k {
			t.Fatalf("load %s: %v, %v", k, v, err)
		}
	}
	load("a")
	load("b")
	load("c") // cur {a b} becomes old; cur {c}
	if !cached("a") || !cached("b") || !cached("c") {
		t.Fatal("a, b and c should all be cached")
	}
	load("a") // hit in old: moves to cur {c a}
	load("d") // cur {c a} becomes old, b dropped
	if cached("b") {
		t.Error("b was not read for a generation and should be gone")
	}
	for _, k := range []string{"a", "c", "d"} {
		if !cached(k) {
			t.Errorf("%s should still be cached", k)
		}
	}
	if cur, old := m.parsed.size(); cur+old > 4 {
		t.Errorf("%d + %d entries, want at most 2 generations of 2", cur, old)
	}
}

// What is not cached: payloads over maxCachedPayload, and everything when
// ParsedCookies is negative, in store mode and with sealed cookies.
func TestParsedCookieLimits(t *testing.T) {
	m := cacheManager(t, nil)
	big := map[string]any{"blob": strings.Repeat("x", maxCachedPayload)}
	cookie, err := m.codec.Encode(big, cacheNow)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.decodeCookie(cookie, cacheNow); err != nil || v["blob"] != big["blob"] {
		t.Fatalf("large payload: %v", err)
	}
	if cur, _ := m.parsed.size(); cur != 0 {
		t.Errorf("a payload over %d bytes was cached", maxCachedPayload)
	}

	off := cacheManager(t, func(c *Config) { c.ParsedCookies = -1 })
	if off.parsed != nil {
		t.Error("ParsedCookies < 0 should turn the cache off")
	}
	small, _ := off.codec.Encode(map[string]any{"k": "v"}, cacheNow)
	if v, err := off.decodeCookie(small, cacheNow); err != nil || v["k"] != "v" {
		t.Errorf("without a cache: %v, %v", v, err)
	}
	if sealed := cacheManager(t, func(c *Config) { c.EncryptCookie = true }); sealed.parsed != nil {
		t.Error("sealed cookies should not be cached")
	}
	if stored := cacheManager(t, func(c *Config) { c.Store = nopStore{} }); stored.parsed != nil {
		t.Error("store mode has no cookie payloads to cache")
	}
}

// Concurrent requests with one cookie, each changing its session's values in
// place, never see each other's changes (run with -race).
func TestParsedCookieConcurrentRequests(t *testing.T) {
	m := cacheManager(t, nil)
	cookie, err := m.codec.Encode(map[string]any{"cart": []any{int64(1), int64(2)}, "n": int64(0)}, cacheNow)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		cart := GetOr[[]any](s, "cart", nil)
		if len(cart) != 2 || cart[0] != int64(1) {
			http.Error(w, fmt.Sprintf("cart %v", cart), http.StatusConflict)
			return
		}
		cart[0] = "changed in place"
		s.Set("n", int64(1))
	}))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Cookie", "session="+cookie)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					errs <- w.Body.String()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// FuzzParsedCookies: for any session the decoder accepts, loads served from
// the cache equal a fresh decode, even after the previous load's values were
// changed in place everywhere they can be.
func FuzzParsedCookies(f *testing.F) {
	f.Add(`{"user_id":"42","cart":[1,2,3]}`)
	f.Add(`{"_flashes":[{" t":["message","hi"]}],"b":{" b":"AAE="},"d":{" d":"Thu, 01 Jan 2026 00:00:00 GMT"}}`)
	f.Add(`{"m":{" m":"<b>"},"u":{" u":"0123456789abcdef0123456789abcdef"},"n":123456789012345678901234567890}`)
	f.Add(`{"x":{"y":{"z":[[],{},[{" di":{"a ":1}}]]}}}`)
	m := cacheManager(f, nil)
	f.Fuzz(func(t *testing.T, payload string) {
		values, err := taggedjson.UnmarshalObject([]byte(payload))
		if err != nil {
			return
		}
		cookie, err := m.codec.Encode(values, cacheNow)
		if err != nil {
			return
		}
		checkLoadsArePrivate(t, m, cookie, nil)
	})
}

// nopStore is a Store that New accepts; the test never calls it.
type nopStore struct{ Store }
