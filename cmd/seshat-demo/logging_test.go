package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/seshat-go/seshat/sessionlog"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var fingerprintRe = regexp.MustCompile(`<code id="session-fingerprint">session=([0-9a-f]+)</code>`)

// TestRequestLogFingerprint: every request line carries the session's
// fingerprint, the one the home page shows, and never the cookie.
func TestRequestLogFingerprint(t *testing.T) {
	var buf syncBuffer
	ta := newTestAppWith(t, "", func(c *config) {
		c.Logger = slog.New(sessionlog.NewHandler(slog.NewTextHandler(&buf, nil), nil))
	})
	b := ta.browser(t)
	b.get("/")
	p := b.get("/")
	m := fingerprintRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("home page shows no fingerprint:\n%s", p.body)
	}
	var lines int
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "msg=request") {
			lines++
			if !strings.Contains(l, "session="+m[1]) {
				t.Errorf("request line without the page's fingerprint %s: %s", m[1], l)
			}
		}
	}
	if lines != 2 {
		t.Fatalf("%d request lines, want 2:\n%s", lines, buf.String())
	}
	if c := b.cookie("session"); c == "" || strings.Contains(buf.String(), c) {
		t.Fatal("the log holds the session cookie (or there is none)")
	}
}
