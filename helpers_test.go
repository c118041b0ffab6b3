package seshat_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

// testKey is a 32-byte key; tests that need Flask's short keys set
// AllowWeakKeys themselves.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1710000000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer captures what seshat logs, to check nothing secret is in it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newManager(t testing.TB, mut func(*seshat.Config)) *seshat.Manager {
	t.Helper()
	cfg := seshat.Config{Keys: [][]byte{testKey}}
	if mut != nil {
		mut(&cfg)
	}
	m, err := seshat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// client drives a handler through a real HTTP server and keeps the session
// cookie like a browser would (by hand, to see every header).
type client struct {
	t      testing.TB
	srv    *httptest.Server
	name   string
	cookie string // current cookie value; "" means none
}

func newClient(t testing.TB, m *seshat.Manager, h http.Handler) *client {
	srv := httptest.NewServer(m.Handler(h))
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, name: m.CookieName()}
}

// get sends a request and applies any Set-Cookie for the session.
func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
	if c.cookie != "" {
		req.Header.Set("Cookie", c.name+"="+c.cookie)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, sc := range resp.Header.Values("Set-Cookie") {
		nv := strings.SplitN(sc, ";", 2)[0]
		if v, ok := strings.CutPrefix(nv, c.name+"="); ok {
			c.cookie = v
		}
	}
	return resp, string(body)
}
