package seshat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
)

func setHandler(kv map[string]any, permanent bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if permanent {
			s.SetPermanent(true)
		}
		for k, v := range kv {
			if err := s.Set(k, v); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		io.WriteString(w, "ok")
	}
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/set", setHandler(map[string]any{"user": "alice", "n": 7}, false))
	mux.Handle("/perm", setHandler(map[string]any{"user": "alice"}, true))
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		u, err := seshat.Get[string](seshat.FromContext(r.Context()), "user")
		if err != nil {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, u)
	})
	mux.HandleFunc("/noop", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
	})
	return mux
}

func TestRoundTripThroughHTTP(t *testing.T) {
	m := newManager(t, nil)
	c := newClient(t, m, routes())
	resp, _ := c.get("/set")
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "; HttpOnly; Path=/; SameSite=Lax") || strings.Contains(sc, "Expires") || strings.Contains(sc, "Secure") {
		t.Fatalf("default attributes: %q", sc)
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("got %q", body)
	}
	resp, _ = c.get("/logout")
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax") {
		t.Fatalf("logout cookie %q", sc)
	}
	if c.cookie != "" {
		t.Fatal("cookie not cleared")
	}
}

func TestPermanentSlidingExpiry(t *testing.T) {
	clk := newClock()
	m := newManager(t, func(c *seshat.Config) { c.Now = clk.Now; c.Lifetime = time.Hour })
	c := newClient(t, m, routes())
	resp, _ := c.get("/perm")
	want := "Expires=" + clk.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if !strings.Contains(resp.Header.Get("Set-Cookie"), want) {
		t.Fatalf("%q lacks %s", resp.Header.Get("Set-Cookie"), want)
	}
	// Every request re-issues a permanent session, even one that does not
	// touch it, so the hour slides.
	for range 3 {
		clk.Add(50 * time.Minute)
		resp, _ = c.get("/noop")
		if resp.Header.Get("Set-Cookie") == "" || resp.Header.Get("Vary") != "Cookie" {
			t.Fatalf("permanent session not refreshed: %v", resp.Header)
		}
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("sliding expiry lost the session: %q", body)
	}
	// Without a request for longer than the lifetime, it is gone.
	clk.Add(61 * time.Minute)
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("expired session still read: %q", body)
	}
}

func TestNoRefreshEachRequest(t *testing.T) {
	clk := newClock()
	m := newManager(t, func(c *seshat.Config) { c.Now = clk.Now; c.NoRefreshEachRequest = true })
	c := newClient(t, m, routes())
	c.get("/perm")
	resp, _ := c.get("/user")
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatal("refresh disabled but cookie re-issued")
	}
}

func TestExpiredAndFutureCookiesGiveEmptySession(t *testing.T) {
	clk := newClock()
	m := newManager(t, func(c *seshat.Config) { c.Now = clk.Now; c.Lifetime = time.Hour })
	val, err := m.Codec().Encode(map[string]any{"user": "alice"}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	load := func() *seshat.Session {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "session="+val)
		s, err := m.Load(r.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	clk.Add(time.Hour) // exactly the lifetime: still valid, as in itsdangerous
	if s := load(); s.Len() != 1 || s.LoadError() != nil {
		t.Fatalf("at the lifetime: %v", s.LoadError())
	}
	clk.Add(time.Second)
	if s := load(); s.Len() != 0 || !errors.Is(s.LoadError(), signing.ErrSignatureExpired) {
		t.Fatalf("expired: len %d, %v", s.Len(), s.LoadError())
	}
	clk.Add(-time.Hour - 2*time.Second) // before it was signed
	if s := load(); s.Len() != 0 || !errors.Is(s.LoadError(), signing.ErrSignatureExpired) {
		t.Fatalf("future: len %d, %v", s.Len(), s.LoadError())
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey := []byte("old-key-old-key-old-key-old-key!")
	newKey := []byte("new-key-new-key-new-key-new-key!")
	clk := newClock()
	oldM := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{oldKey}; c.Now = clk.Now })
	both := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{oldKey, newKey}; c.Now = clk.Now })
	newOnly := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{newKey}; c.Now = clk.Now })

	val, _ := oldM.Codec().Encode(map[string]any{"user": "alice"}, clk.Now())
	c := newClient(t, both, routes())
	c.cookie = val
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("rotation: old cookie not read: %q", body)
	}
	resp, _ := c.get("/set") // a write re-signs with the newest key
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("no cookie")
	}
	if _, err := newOnly.Codec().Decode(c.cookie, time.Hour, clk.Now()); err != nil {
		t.Fatalf("re-issued cookie not signed with the new key: %v", err)
	}
	if _, err := newOnly.Codec().Decode(val, time.Hour, clk.Now()); !errors.Is(err, signing.ErrBadSignature) {
		t.Fatalf("old-key cookie with new key only: %v", err)
	}
}

func TestCVE_2023_23934_DuplicateAndSplitCookies(t *testing.T) {
	m := newManager(t, nil)
	evil := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{[]byte("evil-evil-evil-evil-evil-evil-ev")} })
	now := time.Now()
	good, _ := m.Codec().Encode(map[string]any{"user": "alice"}, now)
	bad, _ := evil.Codec().Encode(map[string]any{"user": "mallory"}, now)
	cases := map[string][]string{
		"evil first":            {"session=" + bad + "; session=" + good},
		"good first":            {"session=" + good + "; session=" + bad},
		"second header line":    {"other=1; session=" + bad, "session=" + good},
		"quoted value":          {`session="` + good + `"`},
		"among 10000 cookies":   {strings.Repeat("a=1; ", 10000) + "session=" + good},
		"tabs and spaces":       {" \tsession=" + good + " ;x=y"},
		"name case differs":     {"Session=" + bad + "; session=" + good},
		"empty value then good": {"session=; session=" + good},
	}
	for name, lines := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = lines
		s, _ := m.Load(r.Context(), r)
		if u, _ := seshat.Get[string](s, "user"); u != "alice" {
			t.Errorf("%s: user %q, want alice", name, u)
		}
	}
	// Names that only look like ours are never taken.
	for _, line := range []string{"\u2000session=" + good, `"session"=` + good, "session =" + good, "sessionx=" + good, "=session=" + good} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", line)
		s, _ := m.Load(r.Context(), r)
		if s.Len() != 0 {
			t.Errorf("%q was taken as the session cookie", line)
		}
	}
}

func TestCVE_2025_58186_CookieFloodIsBounded(t *testing.T) {
	m := newManager(t, nil)
	good, _ := m.Codec().Encode(map[string]any{"user": "alice"}, time.Now())
	bad := good[:len(good)-3] + "AAA"
	r := httptest.NewRequest("GET", "/", nil)
	// 1000 forged session cookies: only the first few are verified.
	r.Header.Set("Cookie", strings.Repeat("session="+bad+"; ", 1000)+"session="+good)
	allocs := testing.AllocsPerRun(20, func() {
		s, _ := m.Load(r.Context(), r)
		if s.Len() != 0 {
			t.Fatal("a cookie past the candidate bound was verified")
		}
	})
	if allocs > 200 {
		t.Fatalf("%v allocations for a cookie flood", allocs)
	}
	// A single oversized value is skipped before any decoding.
	r.Header.Set("Cookie", "session="+strings.Repeat("A", 5000))
	s, _ := m.Load(r.Context(), r)
	if s.Len() != 0 || s.LoadError() != nil {
		t.Fatalf("oversized value: %v", s.LoadError())
	}
}

func TestVaryAndCacheControl(t *testing.T) {
	m := newManager(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		seshat.FromContext(r.Context()).Len()
	})
	mux.HandleFunc("/setcc", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		seshat.FromContext(r.Context()).Set("a", 1)
	})
	c := newClient(t, m, mux)
	resp, _ := c.get("/read")
	if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding, Cookie" {
		t.Fatalf("Vary %q: must be extended as Werkzeug does, not replaced", got)
	}
	resp, _ = c.get("/setcc")
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("handler's Cache-Control overwritten")
	}
}

func TestSecureAutoOnTLS(t *testing.T) {
	m := newManager(t, nil)
	srv := httptest.NewTLSServer(m.Handler(routes()))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/set")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "; Secure") {
		t.Fatalf("TLS request without Secure: %q", resp.Header.Get("Set-Cookie"))
	}
}

func TestConfigValidation(t *testing.T) {
	k := [][]byte{testKey}
	cases := []struct {
		name string
		cfg  seshat.Config
		want error
	}{
		{"no keys", seshat.Config{}, seshat.ErrNoKeys},
		{"empty key", seshat.Config{Keys: [][]byte{{}}}, seshat.ErrWeakKey},
		{"zero key", seshat.Config{Keys: [][]byte{make([]byte, 32)}, AllowWeakKeys: true}, seshat.ErrWeakKey},
		{"short key", seshat.Config{Keys: [][]byte{[]byte("short")}}, seshat.ErrWeakKey},
		{"short old key", seshat.Config{Keys: [][]byte{[]byte("short"), testKey}}, seshat.ErrWeakKey},
		{"samesite none insecure", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{SameSite: http.SameSiteNoneMode, Secure: seshat.SecureNever}}, seshat.ErrConfig},
		{"partitioned insecure", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Partitioned: true, Secure: seshat.SecureNever}}, seshat.ErrConfig},
		{"samesite none, secure only on TLS", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{SameSite: http.SameSiteNoneMode}}, seshat.ErrConfig},
		{"partitioned, secure only on TLS", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Partitioned: true}}, seshat.ErrConfig},
		{"ok samesite none secure", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{SameSite: http.SameSiteNoneMode, Secure: seshat.SecureAlways, Partitioned: true}}, nil},
		{"lifetime over 400 days", seshat.Config{Keys: k, Lifetime: 401 * 24 * time.Hour}, seshat.ErrConfig},
		{"ok lifetime 400 days", seshat.Config{Keys: k, Lifetime: seshat.MaxLifetime}, nil},
		{"host prefix with domain", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "__Host-s", Domain: "example.com", Secure: seshat.SecureAlways}}, seshat.ErrConfig},
		{"host prefix lower case, path", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "__host-s", Path: "/app", Secure: seshat.SecureAlways}}, seshat.ErrConfig},
		{"host prefix not secure", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "__HOST-s"}}, seshat.ErrConfig},
		{"secure prefix not secure", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "__Secure-s"}}, seshat.ErrConfig},
		{"bad name", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "a b"}}, seshat.ErrConfig},
		{"CRLF in path", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Path: "/\r\nSet-Cookie: x"}}, seshat.ErrConfig},
		{"semicolon in domain", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Domain: "a.com; Secure"}}, seshat.ErrConfig},
		{"ok host prefix", seshat.Config{Keys: k, Cookie: seshat.CookieOptions{Name: "__Host-s", Secure: seshat.SecureAlways}}, nil},
		{"ok weak key allowed", seshat.Config{Keys: [][]byte{[]byte("dev")}, AllowWeakKeys: true}, nil},
	}
	for _, tc := range cases {
		_, err := seshat.New(tc.cfg)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") && tc.name == "short key" && strings.Contains(err.Error(), "\"short\"") {
			t.Errorf("error text leaks the key: %v", err)
		}
	}
}

func TestWeakKeyWarnsOnce(t *testing.T) {
	var logs logBuffer
	_, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("dev-secret-key-1")}, AllowWeakKeys: true, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "shorter than 32 bytes"); n != 1 {
		t.Fatalf("warned %d times:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "dev-secret-key-1") {
		t.Fatal("the key was logged")
	}
}

func TestLogsNeverHoldCookieOrKey(t *testing.T) {
	var logs logBuffer
	m := newManager(t, func(c *seshat.Config) { c.Logger = logs.Logger() })
	good, _ := m.Codec().Encode(map[string]any{"secret": "hunter2"}, time.Now())
	tampered := good[:len(good)-4] + "AAAA"
	for _, v := range []string{tampered, "garbage", good + "x", strings.Repeat(".", 50)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "session="+v)
		s, _ := m.Load(r.Context(), r)
		if s.Len() != 0 || s.LoadError() == nil {
			t.Fatalf("%q accepted", v)
		}
		if strings.Contains(s.LoadError().Error(), v) {
			t.Fatalf("reason holds the cookie: %v", s.LoadError())
		}
	}
	out := logs.String()
	if !strings.Contains(out, "session cookie rejected") {
		t.Fatalf("no reason logged:\n%s", out)
	}
	for _, secret := range []string{tampered, good, string(testKey), "hunter2", good[:20]} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds %q:\n%s", secret, out)
		}
	}
}

func TestWriterKeepsOptionalInterfaces(t *testing.T) {
	m := newManager(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("a", 1)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		// Changes after the header went out are refused.
		if err := seshat.FromContext(r.Context()).Set("b", 2); !errors.Is(err, seshat.ErrHeadersWritten) {
			t.Errorf("late Set: %v", err)
		}
		io.WriteString(w, "streamed")
	})
	mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
		// Reaches the real writer through Unwrap.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
	})
	mux.HandleFunc("/readfrom", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("a", 1)
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("no ReaderFrom")
		}
		io.Copy(w, strings.NewReader("copied"))
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("a", 1)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		buf.Flush()
	})
	c := newClient(t, m, mux)
	for path, want := range map[string]string{"/flush": "streamed", "/readfrom": "copied", "/hijack": "hijacked", "/deadline": ""} {
		resp, body := c.get(path)
		if body != want {
			t.Errorf("%s: body %q", path, body)
		}
		if path != "/hijack" && path != "/deadline" && resp.Header.Get("Set-Cookie") == "" {
			t.Errorf("%s: no Set-Cookie", path)
		}
	}
}

func TestSaveErrorReplacesResponse(t *testing.T) {
	var gotErr error
	m := newManager(t, func(c *seshat.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			http.Error(w, "session too big", http.StatusRequestEntityTooLarge)
		}
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		for i := range 400 {
			s.Set(strings.Repeat("k", 5)+string(rune('a'+i%26))+strings.Repeat("z", i%7)+string(rune('A'+i/26)), strings.Repeat(string(rune('a'+i%26)), i%13))
		}
		s.Set("rand", randomText(5000))
		w.WriteHeader(200)
		if _, err := io.WriteString(w, "handler body"); err == nil {
			t.Error("write after a failed save succeeded")
		}
	})
	c := newClient(t, m, h)
	resp, body := c.get("/")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || strings.Contains(body, "handler body") || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("status %d body %q cookie %q", resp.StatusCode, body, resp.Header.Get("Set-Cookie"))
	}
	var tooLarge *seshat.CookieTooLargeError
	if !errors.Is(gotErr, seshat.ErrCookieTooLarge) || !errors.As(gotErr, &tooLarge) || tooLarge.Size <= seshat.MaxCookieSize {
		t.Fatalf("error %v", gotErr)
	}
}

func randomText(n int) string {
	var b strings.Builder
	x := uint64(0x9E3779B97F4A7C15)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[x%64])
	}
	return b.String()
}

func TestNoMiddleware(t *testing.T) {
	if _, err := seshat.Lookup(context.Background()); !errors.Is(err, seshat.ErrNoSession) {
		t.Fatalf("Lookup: %v", err)
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "Manager.Handler") {
			t.Fatalf("panic %v does not name the middleware", r)
		}
	}()
	seshat.FromContext(context.Background())
}

func TestHandlerWithoutWrite(t *testing.T) {
	m := newManager(t, nil)
	c := newClient(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("a", 1)
	}))
	resp, _ := c.get("/")
	if resp.StatusCode != 200 || resp.Header.Get("Set-Cookie") == "" {
		t.Fatalf("status %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}

// TestInterimResponseKeepsSession checks that a 103 Early Hints response does
// not commit the session: it is saved with the final header.
func TestInterimResponseKeepsSession(t *testing.T) {
	m := newManager(t, nil)
	c := newClient(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		if err := seshat.FromContext(r.Context()).Set("a", 1); err != nil {
			t.Errorf("Set after 103: %v", err)
		}
		io.WriteString(w, "ok")
	}))
	resp, _ := c.get("/")
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("no Set-Cookie after an interim response")
	}
}

// TestCompressThreshold: by default a small session is written uncompressed
// even when zlib would shorten it, a session of CompressThreshold bytes or
// more is compressed, and FlaskCompression restores itsdangerous's rule for
// every size. Both forms read back.
func TestCompressThreshold(t *testing.T) {
	small := map[string]any{"note": strings.Repeat("ab", 100)} // ~215 bytes, zlib shrinks it
	large := map[string]any{"note": strings.Repeat("ab", seshat.CompressThreshold)}
	for _, tc := range []struct {
		name     string
		flask    bool
		kv       map[string]any
		wantZlib bool
	}{
		{"small-default", false, small, false},
		{"large-default", false, large, true},
		{"small-flask", true, small, true},
		{"large-flask", true, large, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, func(c *seshat.Config) { c.FlaskCompression = tc.flask })
			mux := routes()
			mux.Handle("/big", setHandler(tc.kv, false))
			c := newClient(t, m, mux)
			resp, _ := c.get("/big")
			val := strings.TrimPrefix(strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0], "session=")
			if got := strings.HasPrefix(val, "."); got != tc.wantZlib {
				t.Fatalf("compressed=%v, want %v: %.40q", got, tc.wantZlib, val)
			}
			got, err := m.Codec().Decode(val, time.Hour, time.Now())
			if err != nil || got["note"] != tc.kv["note"] {
				t.Fatalf("read back %.40v, %v", got, err)
			}
		})
	}
	// A codec made directly follows Flask until told otherwise.
	codec, err := seshat.NewCookieCodec([][]byte{testKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if v, _ := codec.Encode(small, now); !strings.HasPrefix(v, ".") {
		t.Fatalf("NewCookieCodec must compress as Flask does: %.40q", v)
	}
	codec.SetCompressThreshold(seshat.CompressThreshold)
	if v, _ := codec.Encode(small, now); strings.HasPrefix(v, ".") {
		t.Fatalf("under the threshold the codec still compressed: %.40q", v)
	}
}

// TestMiddlewareContext: the request context the middleware hands on
// carries the session and still answers for the parent's values, deadline
// and cancellation.
func TestMiddlewareContext(t *testing.T) {
	type key struct{}
	m := newManager(t, nil)
	var got []any
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s, err := seshat.Lookup(ctx)
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		got = append(got, s != nil && err == nil, ctx.Value(key{}), child.Err())
	}))
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "parent value"))
	cancel()
	r := httptest.NewRequestWithContext(parent, "GET", "/", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(got) != 3 || got[0] != true || got[1] != "parent value" || got[2] != context.Canceled {
		t.Fatalf("in the handler: session found, parent value, child error = %v; want true, \"parent value\", context.Canceled", got)
	}
}

// TestSaveHeadersIndependent: the header values a save adds are not shared
// between responses, and a handler appending to them gets its own copy.
func TestSaveHeadersIndependent(t *testing.T) {
	m := newManager(t, nil)
	r := httptest.NewRequest("GET", "/", nil)
	s, err := m.Load(r.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	s.Set("user", "alice")
	w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
	if err := m.Save(r.Context(), w1, s); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(r.Context(), w2, s); err != nil {
		t.Fatal(err)
	}
	h1, h2 := w1.Header(), w2.Header()
	for _, k := range []string{"Set-Cookie", "Vary", "Cache-Control"} {
		if len(h1[k]) != 1 || len(h2[k]) != 1 || h1[k][0] != h2[k][0] {
			t.Fatalf("%s: %q and %q, want one equal value each", k, h1[k], h2[k])
		}
	}
	want := h2.Clone()
	h1["Vary"][0] = "changed"
	h1.Add("Set-Cookie", "other=1")
	h1.Add("Cache-Control", "no-store")
	for k, v := range want {
		if strings.Join(h2[k], "|") != strings.Join(v, "|") {
			t.Fatalf("changing the first response's %s changed the second's: %q, want %q", k, h2[k], v)
		}
	}
}
