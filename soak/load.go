package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// outages records when the engine was down (from the stop signal until it
// accepts connections again plus a grace period for the pools to redial),
// the only time a 5xx is allowed.
type outages struct {
	mu    sync.Mutex
	spans [][2]time.Time // end zero while open
	grace time.Duration
	log   io.Writer // where 5xx outside a window are described
}

func (o *outages) begin() {
	o.mu.Lock()
	o.spans = append(o.spans, [2]time.Time{time.Now()})
	o.mu.Unlock()
}

func (o *outages) end() {
	o.mu.Lock()
	o.spans[len(o.spans)-1][1] = time.Now().Add(o.grace)
	o.mu.Unlock()
}

// covers reports whether a request sent at start and answered at end
// overlaps an outage window.
func (o *outages) covers(start, end time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.spans {
		if !end.Before(s[0]) && (s[1].IsZero() || !start.After(s[1])) {
			return true
		}
	}
	return false
}

// tally is what the clients saw.
type tally struct {
	Requests         int64 // answered with any status
	OK               int64
	Reads, Writes    int64 // answered 200
	Logins           int64
	FiveXXInOutage   int64
	FiveXXOutside    int64 // must be 0
	TransportErrors  int64 // no HTTP answer at all; must be 0
	SessionsLost     int64 // a logged-in cookie answered "anonymous"; must be 0
	LostAfterFailure int64 // same, right after a 5xx on /login (the renew did not complete)
	WrongUser        int64 // a cookie answered with another user's session; must be 0
	LostUpdates      int64 // counter below the last value the client saw acknowledged; must be 0
	Phantoms         int64 // counter above every value the client could explain; must be 0
	Ambiguous        int64 // writes answered 5xx whose effect was then found applied (allowed)
	Other            int64 // any other unexpected answer; must be 0
	NotRenewed       int64 // a login that kept the session id; must be 0
	OldIDsAlive      int64 // a cookie replaced by a login still names a session; must be 0
	Renewed          int64 // cookies replaced by a login, checked at the end
	LoginsFailed     int64 // logins answered 5xx (their new record may exist, unreachable)
}

func (t *tally) add(o *tally) {
	t.Requests += o.Requests
	t.OK += o.OK
	t.Reads += o.Reads
	t.Writes += o.Writes
	t.Logins += o.Logins
	t.FiveXXInOutage += o.FiveXXInOutage
	t.FiveXXOutside += o.FiveXXOutside
	t.TransportErrors += o.TransportErrors
	t.SessionsLost += o.SessionsLost
	t.LostAfterFailure += o.LostAfterFailure
	t.WrongUser += o.WrongUser
	t.LostUpdates += o.LostUpdates
	t.Phantoms += o.Phantoms
	t.Ambiguous += o.Ambiguous
	t.Other += o.Other
	t.NotRenewed += o.NotRenewed
	t.OldIDsAlive += o.OldIDsAlive
	t.Renewed += o.Renewed
	t.LoginsFailed += o.LoginsFailed
}

// client is one browser: one cookie, one user, requests one at a time. It
// knows the counter's last acknowledged value and how many writes answered
// 5xx since then (each may or may not have been applied).
type client struct {
	id      int
	base    string
	hc      *http.Client
	out     *outages
	rng     *rand.Rand
	cookie  string
	user    string
	logins  int
	known   int
	pending int
	failed  bool // the last /login answered 5xx
	// replaced holds the cookies a successful login replaced: renewal
	// must have deleted their sessions.
	replaced []string
	t        tally
}

// run sends requests until ctx ends, at most one per tick of limiter.
func (c *client) run(ctx context.Context, limiter <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-limiter:
		}
		c.step()
	}
}

// step sends one request chosen from the mix: a login when the client has
// no session, else 5% logins, 35% writes, 60% reads.
func (c *client) step() {
	p := c.rng.IntN(100)
	switch {
	case c.user == "" || p < 5:
		c.login()
	case p < 40:
		c.do("/write", true)
	default:
		c.do("/read", false)
	}
}

func (c *client) login() {
	c.logins++
	u := fmt.Sprintf("u%d-%d", c.id, c.logins)
	old := c.cookie
	code, body, ok := c.send("/login?u=" + u)
	if !ok {
		return
	}
	if code != 200 {
		c.failed = c.user != ""
		c.t.LoginsFailed++
		return
	}
	if body != u+" 0" {
		c.t.Other++
		return
	}
	c.t.Logins++
	if old != "" {
		if c.cookie == old {
			c.t.NotRenewed++
		} else {
			c.replaced = append(c.replaced, old)
		}
	}
	c.user, c.known, c.pending, c.failed = u, 0, 0, false
}

// do sends a read or a write and checks the counter it answers.
func (c *client) do(path string, write bool) {
	code, body, ok := c.send(path)
	if !ok {
		return
	}
	if code != 200 {
		if write {
			c.pending++
		}
		return
	}
	if body == "anonymous" {
		if c.failed {
			c.t.LostAfterFailure++
		} else {
			c.t.SessionsLost++
		}
		c.user, c.failed = "", false
		return
	}
	c.failed = false
	u, ns, _ := strings.Cut(body, " ")
	n, err := strconv.Atoi(ns)
	if err != nil {
		c.t.Other++
		return
	}
	if u != c.user {
		c.t.WrongUser++
		c.user = ""
		return
	}
	// Before this request the counter was known+k for some k in
	// [0, pending]; a write adds one.
	lo, hi := c.known, c.known+c.pending
	if write {
		lo, hi = lo+1, hi+1
		c.t.Writes++
	} else {
		c.t.Reads++
	}
	switch {
	case n < lo:
		c.t.LostUpdates += int64(lo - n)
	case n > hi:
		c.t.Phantoms += int64(n - hi)
	default:
		c.t.Ambiguous += int64(n - lo)
	}
	c.known, c.pending = n, 0
}

// send makes one request with the client's cookie, keeps any new session
// cookie, and counts the answer.
func (c *client) send(path string) (code int, body string, ok bool) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if c.cookie != "" {
		req.Header.Set("Cookie", "session="+c.cookie)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.TransportErrors++
		return 0, "", false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.TransportErrors++
		return 0, "", false
	}
	c.t.Requests++
	if resp.StatusCode >= 500 {
		if c.out.covers(start, time.Now()) {
			c.t.FiveXXInOutage++
		} else {
			c.t.FiveXXOutside++
			fmt.Fprintf(c.out.log, "%d on %s outside an outage window, sent at %s, answered after %s (%s)\n",
				resp.StatusCode, path, start.Format("15:04:05.000"), time.Since(start).Round(time.Millisecond), bytes.TrimSpace(b))
		}
		return resp.StatusCode, "", true
	}
	if resp.StatusCode != 200 {
		c.t.Other++
		return resp.StatusCode, "", false
	}
	c.t.OK++
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" {
			c.cookie = ck.Value
			if ck.MaxAge < 0 {
				c.cookie = ""
			}
		}
	}
	return 200, string(b), true
}

// verify is each client's last read after the traffic stopped and the
// engine is up: its session and counter must still be there, and every
// cookie a login replaced must be dead.
func (c *client) verify() {
	if c.user != "" {
		c.do("/read", false)
	}
	cur := c.cookie
	c.t.Renewed += int64(len(c.replaced))
	for _, old := range c.replaced {
		c.cookie = old
		if code, body, ok := c.send("/read"); !ok || code != 200 || body != "anonymous" {
			c.t.OldIDsAlive++
		}
	}
	c.cookie = cur
}
