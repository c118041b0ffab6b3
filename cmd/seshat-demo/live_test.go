package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

var bumpsRe = regexp.MustCompile(`id="live-bumps" data-key="live_bumps">(\d+)<`)

// dial opens /live/ws with the browser's cookies.
func (b *browser) dial(ctx context.Context) (*websocket.Conn, *http.Response, error) {
	u, _ := url.Parse(b.base)
	h := http.Header{}
	for _, c := range b.jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/live/ws", &websocket.DialOptions{HTTPHeader: h})
}

// next reads messages until one satisfies ok (the socket pushes on every
// change it sees, so the wanted state arrives unless the code is broken;
// the context's deadline only stops a broken test from hanging).
func next(ctx context.Context, t *testing.T, c *websocket.Conn, ok func(liveMessage) bool) liveMessage {
	t.Helper()
	for {
		var m liveMessage
		if err := wsjson.Read(ctx, c, &m); err != nil {
			t.Fatalf("socket read: %v", err)
		}
		if ok(m) {
			return m
		}
	}
}

func TestLiveSocket(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b := ta.browser(t)
		b.signup("live@example.org", "password1")
		if _, resp, err := b.dial(ctx); err == nil || resp == nil || resp.StatusCode != 401 {
			t.Fatalf("anonymous socket: %v", err)
		}
		b.login("live@example.org", "password1", false)
		p := b.get("/live")
		if !strings.Contains(p.body, `id="live-values"`) || !strings.Contains(p.body, `id="live-bump"`) {
			t.Fatalf("live page:\n%s", p.body)
		}
		c, _, err := b.dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		m := next(ctx, t, c, func(m liveMessage) bool { return m.Values != nil })
		if m.Values.User != "live@example.org" || m.Values.Bumps != 0 || m.Values.Theme != "light" {
			t.Fatalf("first message %+v", *m.Values)
		}
		// A bump from the socket's goroutine.
		if err := wsjson.Write(ctx, c, map[string]string{"op": "bump"}); err != nil {
			t.Fatal(err)
		}
		m = next(ctx, t, c, func(m liveMessage) bool { return m.Values != nil && m.Values.Bumps == 1 })
		cookieMode := ta.store == nil
		if cookieMode != (m.Note != "") {
			t.Fatalf("cookie mode %v, note %q", cookieMode, m.Note)
		}
		// A reload shows it (store mode), and the page's own requests show
		// up on the socket.
		want := "1"
		if cookieMode {
			want = "0"
		}
		if got := bumpsRe.FindStringSubmatch(b.get("/live").body); got == nil || got[1] != want {
			t.Fatalf("live_bumps after reload = %v, want %s", got, want)
		}
		b.post("/theme", url.Values{"theme": {"dark"}})
		if !cookieMode {
			next(ctx, t, c, func(m liveMessage) bool { return m.Values != nil && m.Values.Theme == "dark" })
			// Logging out everywhere from another browser ends the socket.
			o := ta.browser(t)
			o.login("live@example.org", "password1", false)
			o.get("/sessions")
			o.post("/sessions/revoke-all", nil)
			m = next(ctx, t, c, func(m liveMessage) bool { return m.Error != "" })
			if !strings.Contains(m.Error, "revoked") || !m.Retry {
				t.Fatalf("revoked socket: %+v", m)
			}
			// The page's one retry: the revoked browser's handshake is refused.
			if _, resp, err := b.dial(ctx); err == nil || resp == nil || resp.StatusCode != 401 {
				t.Fatalf("socket of a revoked session: %v", err)
			}
			// A renewal in another tab (a password change) ends the socket
			// too, and the retry, with the browser's new cookie, carries on.
			o.get("/live")
			oc, _, err := o.dial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer oc.CloseNow()
			next(ctx, t, oc, func(m liveMessage) bool { return m.Values != nil })
			o.get("/settings")
			o.post("/settings/password", url.Values{"current_password": {"password1"}, "new_password": {"password2"}})
			if m := next(ctx, t, oc, func(m liveMessage) bool { return m.Error != "" }); !m.Retry {
				t.Fatalf("renewed session's socket: %+v", m)
			}
			oc2, _, err := o.dial(ctx)
			if err != nil {
				t.Fatalf("retry after a renewal: %v", err)
			}
			defer oc2.CloseNow()
			m = next(ctx, t, oc2, func(m liveMessage) bool { return m.Values != nil })
			if m.Values.User != "live@example.org" {
				t.Fatalf("retried socket: %+v", *m.Values)
			}
		}
	})
}

// TestLiveSurvivesRenewal: with a store, an id older than an hour is
// replaced at the next request (Config.RenewAfter). An open /live socket
// follows its session to the new id: its writes land in the live session,
// and the sessions page shows one row, not the retired id.
func TestLiveSurvivesRenewal(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ta := newTestAppWith(t, "", func(c *config) { c.Now = clock })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := ta.browser(t)
	b.signup("renew@example.org", "password1")
	b.login("renew@example.org", "password1", false)
	b.get("/live")
	c, _, err := b.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	next(ctx, t, c, func(m liveMessage) bool { return m.Values != nil })

	before := b.cookie("session")
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	p := b.get("/sessions")
	if b.cookie("session") == before {
		t.Fatal("the session id was not renewed after RenewAfter")
	}
	if n := len(rowRe.FindAllString(p.body, -1)); n != 1 {
		t.Fatalf("%d session rows after a renewal, want 1", n)
	}
	if err := wsjson.Write(ctx, c, map[string]string{"op": "bump"}); err != nil {
		t.Fatal(err)
	}
	m := next(ctx, t, c, func(m liveMessage) bool { return m.Error != "" || (m.Values != nil && m.Values.Bumps == 1) })
	if m.Error != "" {
		t.Fatalf("socket after a renewal: %+v", m)
	}
	if got := bumpsRe.FindStringSubmatch(b.get("/live").body); got == nil || got[1] != "1" {
		t.Fatalf("live_bumps in the renewed session = %v, want 1", got)
	}
}
