package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sessionlog"
)

// stores runs t against memstore (its Merge holds a shard lock) and Redis
// (its Merge is a Lua script), the two ways a merge is made atomic.
func stores(t *testing.T, fn func(t *testing.T, store seshat.Store)) {
	t.Run("memstore", func(t *testing.T) { fn(t, memstore.New(memstore.Options{})) })
	t.Run("redis", func(t *testing.T) {
		addr := os.Getenv("SESHAT_REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		testenv.Dial(t, "Redis", addr)
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { rdb.Close() })
		prefix := fmt.Sprintf("seshat-test-ws:%d:", time.Now().UnixNano())
		t.Cleanup(func() {
			keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
			if len(keys) > 0 {
				rdb.Del(context.Background(), keys...)
			}
		})
		fn(t, redisstore.New(rdb, redisstore.Options{Prefix: prefix}))
	})
}

type testApp struct {
	srv    *httptest.Server
	logs   *testenv.Buffer
	cookie string
}

func startApp(t *testing.T, store seshat.Store, poll time.Duration) *testApp {
	logs := &testenv.Buffer{}
	logger := slog.New(sessionlog.NewHandler(slog.NewTextHandler(logs, nil), nil))
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Store: store, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := &testApp{srv: httptest.NewServer(sm.Handler(newApp(sm, logger, poll))), logs: logs}
	t.Cleanup(a.srv.Close)
	a.do(t, "GET", "/")
	if a.cookie == "" {
		t.Fatal("the page set no session cookie")
	}
	return a
}

// do sends a request with the session cookie and returns the body.
func (a *testApp) do(t *testing.T, method, path string) string {
	req, _ := http.NewRequest(method, a.srv.URL+path, nil)
	if a.cookie != "" {
		req.Header.Set("Cookie", a.cookie)
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if sc := resp.Header.Get("Set-Cookie"); sc != "" && a.cookie == "" {
		a.cookie = strings.SplitN(sc, ";", 2)[0]
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s %s: %s %s", method, path, resp.Status, body)
	}
	return string(body)
}

// dial opens the socket with the session cookie (and origin, if given).
func (a *testApp) dial(t *testing.T, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{"Cookie": {a.cookie}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(a.srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h})
}

func (a *testApp) socket(t *testing.T) *websocket.Conn {
	c, _, err := a.dial(t, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if m := read(t, c); m.Values == nil {
		t.Fatalf("first message: %+v", m)
	}
	return c
}

func read(t *testing.T, c *websocket.Conn) message {
	t.Helper()
	var m message
	if err := wsjson.Read(t.Context(), c, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip sends op and returns the socket's answer.
func roundTrip(t *testing.T, c *websocket.Conn, op string) message {
	t.Helper()
	if err := wsjson.Write(t.Context(), c, command{Op: op}); err != nil {
		t.Fatal(err)
	}
	return read(t, c)
}

// TestSocketAndRequestsLoseNothing: the socket's clicks and concurrent HTTP
// requests (clicks and notes, from two goroutines) change different keys of
// one stored session at the same time; every update persists.
func TestSocketAndRequestsLoseNothing(t *testing.T) {
	stores(t, func(t *testing.T, store seshat.Store) {
		a := startApp(t, store, time.Hour) // pushes only on request
		c := a.socket(t)
		const n = 30
		var wg sync.WaitGroup
		wg.Go(func() {
			for range n {
				a.do(t, "POST", "/click")
			}
		})
		wg.Go(func() {
			for i := range n {
				a.do(t, "POST", fmt.Sprintf("/note?text=note-%d", i))
			}
		})
		var last message
		for range n {
			last = roundTrip(t, c, "click")
		}
		wg.Wait()
		if got := last.Values["ws_clicks"]; got != float64(n) {
			t.Errorf("the socket's copy counts %v clicks, want %d", got, n)
		}
		want := map[string]any{"visits": 1.0, "page_clicks": float64(n), "ws_clicks": float64(n), "note": fmt.Sprintf("note-%d", n-1)}
		if got := values(t, a.do(t, "GET", "/values")); !maps.Equal(got, want) {
			t.Errorf("stored session %v, want %v: updates were lost", got, want)
		}
		if got := roundTrip(t, c, "refresh").Values; !maps.Equal(got, want) {
			t.Errorf("the socket after refresh sees %v, want %v", got, want)
		}
	})
}

func values(t *testing.T, body string) map[string]any {
	t.Helper()
	var m message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return m.Values
}

// TestSocketPushesChanges: a change made over HTTP reaches the open socket
// without the page asking.
func TestSocketPushesChanges(t *testing.T) {
	stores(t, func(t *testing.T, store seshat.Store) {
		a := startApp(t, store, 5*time.Millisecond)
		c := a.socket(t)
		a.do(t, "POST", "/click")
		for {
			m := read(t, c) // bounded by the test's deadline
			if m.Values["page_clicks"] == 1.0 {
				return
			}
		}
	})
}

// TestSocketEndsOnLogout: after a logout over HTTP the socket's session is
// gone; the socket says so and closes with a policy-violation status.
func TestSocketEndsOnLogout(t *testing.T) {
	stores(t, func(t *testing.T, store seshat.Store) {
		a := startApp(t, store, time.Hour)
		c := a.socket(t)
		roundTrip(t, c, "click")
		a.do(t, "POST", "/logout")
		if m := roundTrip(t, c, "refresh"); m.Error != "session ended" {
			t.Fatalf("after logout the socket sent %+v", m)
		}
		_, _, err := c.Read(t.Context())
		if st := websocket.CloseStatus(err); st != websocket.StatusPolicyViolation {
			t.Fatalf("close status %v (%v)", st, err)
		}
		if got := values(t, a.do(t, "GET", "/values")); len(got) != 0 {
			t.Fatalf("the socket resurrected the session: %v", got)
		}
	})
}

func TestSocketHandshakeRefusals(t *testing.T) {
	a := startApp(t, memstore.New(memstore.Options{}), time.Hour)
	_, resp, err := a.dial(t, "https://evil.example")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a handshake from another origin: %v %v", resp, err)
	}
	a.cookie = ""
	_, resp, err = a.dial(t, "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a handshake without a session: %v %v", resp, err)
	}
}

// TestLogsShareTheFingerprint: the page's requests and the socket log under
// one fingerprint, and the cookie never reaches the log.
func TestLogsShareTheFingerprint(t *testing.T) {
	a := startApp(t, memstore.New(memstore.Options{}), time.Hour)
	c := a.socket(t)
	a.do(t, "POST", "/click")
	roundTrip(t, c, "click")
	c.Close(websocket.StatusNormalClosure, "")
	logs := a.logs.String()
	re := regexp.MustCompile(`msg=click via=(http|socket) session=([0-9a-f]{12})`)
	found := re.FindAllStringSubmatch(logs, -1)
	if len(found) != 2 || found[0][2] != found[1][2] {
		t.Fatalf("click lines %q in:\n%s", found, logs)
	}
	value := strings.TrimPrefix(a.cookie, "session=")
	id, _, _ := strings.Cut(value, ".")
	if strings.Contains(logs, value) || strings.Contains(logs, id) {
		t.Fatalf("the cookie or the session id is in the log:\n%s", logs)
	}
}
