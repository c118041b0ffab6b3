package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/testenv"
)

// engines names the outside service each contender needs, for testenv.
var engines = map[string]string{
	"seshat-redis":    "Redis",
	"scs-redis":       "Redis",
	"seshat-postgres": "PostgreSQL",
}

// TestContenders serves every contender and checks that it does the same
// work: /login creates the session, /read shows its four values, /write
// flips the theme, which the next /read shows, and /untouched answers
// without a session. A contender that would not do this would not be
// measured doing it.
func TestContenders(t *testing.T) {
	for _, name := range contenderNames() {
		t.Run(name, func(t *testing.T) {
			o := options{
				redisAddr: envOr("SESHAT_REDIS_ADDR", "127.0.0.1:6379"),
				pgURL:     envOr("SESHAT_PG_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
				workDir:   t.TempDir(),
				stats:     new(stats),
				tag:       "test_" + randomHex(6),
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			h, cleanup, err := contenders[name](ctx, o)
			if errors.Is(err, errSkip) {
				testenv.Unavailable(t, engines[name], err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			srv := httptest.NewServer(o.stats.handler(h))
			defer srv.Close()

			code, body, cookie := get(t, srv.URL+"/login", "")
			if code != 200 || body != "logged in\n" {
				t.Fatalf("/login: %d %q", code, body)
			}
			if cookie == "" && name != "baseline" {
				t.Fatal("/login set no session cookie")
			}
			want := "user_id=42 csrf_token=" + csrfToken + " theme=dark cart=1,2,3\n"
			if _, body, _ = get(t, srv.URL+"/read", cookie); body != want {
				t.Fatalf("/read after login: %q, want %q", body, want)
			}
			code, body, next := get(t, srv.URL+"/write", cookie)
			if code != 200 || body != "ok\n" {
				t.Fatalf("/write: %d %q", code, body)
			}
			if next != "" {
				cookie = next
			}
			if name != "baseline" {
				want = strings.Replace(want, "theme=dark", "theme=light", 1)
			}
			if _, body, _ = get(t, srv.URL+"/read", cookie); body != want {
				t.Fatalf("/read after write: %q, want %q", body, want)
			}
			if code, body, _ = get(t, srv.URL+"/untouched", ""); code != 200 || body != "ok\n" {
				t.Fatalf("/untouched: %d %q", code, body)
			}
			if code, _, _ = get(t, srv.URL+"/read", ""); code != http.StatusUnauthorized && name != "baseline" {
				t.Fatalf("/read without a cookie: %d, want 401", code)
			}
			_, body, _ = get(t, srv.URL+"/_bench/stats", "")
			if !strings.HasPrefix(body, "requests=6 round_trips=") {
				t.Fatalf("/_bench/stats: %q, want 6 requests counted", body)
			}
			if engines[name] != "" && strings.HasSuffix(body, " round_trips=0\n") {
				t.Fatalf("/_bench/stats: %q: no round trip to %s counted", body, engines[name])
			}
		})
	}
}

// get sends one GET with the session cookie c (name=value, or none) and
// returns the status, the body and the session cookie the response set.
func get(t *testing.T, url, c string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != "" {
		req.Header.Set("Cookie", c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	set := ""
	for _, sc := range resp.Cookies() {
		if sc.MaxAge >= 0 && sc.Value != "" {
			set = sc.Name + "=" + sc.Value
		}
	}
	return resp.StatusCode, string(b), set
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
