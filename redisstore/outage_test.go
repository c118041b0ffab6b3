package redisstore

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
)

// outcome is one request of the outage test.
type outcome struct {
	user       string
	path       string
	start, end time.Time
	status     int
	body       string
	err        error
}

// TestOutage kills redis-server (SIGKILL) under traffic, restarts it on the
// same port and directory (AOF, fsync always) and checks that: every request
// is either served for the right user or answered 503 (never 500, never 200
// with an empty or another user's session); every request made while the
// server is down gets 503; the process recovers by itself; and every session
// saved before the outage is there afterwards with its values.
func TestOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("outage test skipped in -short mode")
	}
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	c := redis.NewClient(&redis.Options{
		Addr: srv.addr(), DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond, MaxRetries: 1, DialerRetries: 1, PoolTimeout: time.Second,
	})
	defer c.Close()
	m, err := seshat.New(seshat.Config{Keys: testKeys, Store: New(c, Options{}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew()
		s.SetUserID(r.FormValue("u"))
		s.Set("user", r.FormValue("u"))
		s.Set("n", 0)
		s.Set("note", "saved before the outage: "+r.FormValue("u"))
	})
	show := func(w http.ResponseWriter, s *seshat.Session) {
		u, _ := seshat.Get[string](s, "user")
		n, _ := seshat.Get[int](s, "n")
		fmt.Fprintf(w, "%s %d", u, n)
	}
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { show(w, seshat.FromContext(r.Context())) })
	mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		n, _ := seshat.Get[int](s, "n")
		s.Set("n", n+1)
		show(w, s)
	})
	mux.HandleFunc("/note", func(w http.ResponseWriter, r *http.Request) {
		v, _ := seshat.Get[string](seshat.FromContext(r.Context()), "note")
		io.WriteString(w, v)
	})
	app := httptest.NewServer(m.Handler(mux))
	defer app.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	do := func(user, path, cookie string) outcome {
		o := outcome{user: user, path: path, start: time.Now()}
		req, _ := http.NewRequest("GET", app.URL+path, nil)
		req.Header.Set("Cookie", "session="+cookie)
		resp, err := client.Do(req)
		o.end = time.Now()
		if err != nil {
			o.err = err
			return o
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		o.status, o.body = resp.StatusCode, string(b)
		return o
	}

	// Before the outage: 8 active users and 20 idle ones log in.
	login := func(u string) string {
		_, _, set := get(t, app, "/login?u="+u, "")
		if set == "" {
			t.Fatalf("login %s: no cookie", u)
		}
		return set
	}
	active := make([]string, 8)
	idle := make([]string, 20)
	for i := range active {
		active[i] = login(fmt.Sprintf("active-%d", i))
	}
	for i := range idle {
		idle[i] = login(fmt.Sprintf("idle-%d", i))
	}

	// Traffic: each active user alternates /inc and /read, one request at a
	// time, until stop.
	var (
		mu       sync.Mutex
		outcomes []outcome
		acked    = make([]int, len(active)) // the last n a 200 answered
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i, cookie := range active {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("active-%d", i)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				path := "/read"
				if k%2 == 0 {
					path = "/inc"
				}
				o := do(user, path, cookie)
				mu.Lock()
				outcomes = append(outcomes, o)
				if o.status == 200 {
					if n, err := strconv.Atoi(strings.TrimPrefix(o.body, user+" ")); err == nil && n > acked[i] {
						acked[i] = n
					}
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	deadline := time.Now().Add(30 * time.Second)
	time.Sleep(1500 * time.Millisecond)
	killing := time.Now()
	srv.kill()
	killed := time.Now() // the process has exited
	time.Sleep(2 * time.Second)
	restarting := time.Now()
	srv.start() // same port, same directory: replays the AOF
	restarted := time.Now()
	// Wait until every active user has been served again.
	var recovered time.Time
	for time.Now().Before(deadline) {
		mu.Lock()
		ok := 0
		for i := range active {
			user := fmt.Sprintf("active-%d", i)
			for _, o := range slices.Backward(outcomes) {
				if o.user == user && o.start.After(restarted) && o.status == 200 {
					ok++
					break
				}
			}
		}
		mu.Unlock()
		if ok == len(active) {
			recovered = time.Now()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if recovered.IsZero() {
		t.Fatal("the process did not recover from the outage before the deadline")
	}

	// Judge every request.
	var before, during, after, served, unavailable int
	var outageLatency []time.Duration
	firstOK := time.Time{}
	for _, o := range outcomes {
		if o.err != nil {
			t.Errorf("%s %s: transport error %v", o.user, o.path, o.err)
			continue
		}
		switch o.status {
		case 200:
			served++
			// Identity: the session served is the user's own, never empty.
			if !strings.HasPrefix(o.body, o.user+" ") {
				t.Errorf("%s %s: served %q (an empty or foreign session)", o.user, o.path, o.body)
			}
			if o.start.After(restarting) && (firstOK.IsZero() || o.end.Before(firstOK)) {
				firstOK = o.end
			}
		case 503:
			unavailable++
		default:
			t.Errorf("%s %s: status %d %q, want 200 or 503", o.user, o.path, o.status, o.body)
		}
		switch {
		case o.end.Before(killing):
			before++
			if o.status != 200 {
				t.Errorf("%s %s before the outage: status %d", o.user, o.path, o.status)
			}
		case o.start.After(killed) && o.end.Before(restarting):
			during++
			outageLatency = append(outageLatency, o.end.Sub(o.start))
			if o.status != 503 {
				t.Errorf("%s %s during the outage: status %d %q, want 503", o.user, o.path, o.status, o.body)
			}
		case o.start.After(restarting):
			after++
		}
	}
	slices.Sort(outageLatency)
	p99 := time.Duration(0)
	if len(outageLatency) > 0 {
		p99 = outageLatency[len(outageLatency)*99/100]
	}
	t.Logf("requests: %d total, %d served (200), %d refused (503); %d before the kill, %d during the outage (all must be 503; p99 latency %v), %d after the restart, the rest in flight at the kill",
		len(outcomes), served, unavailable, before, during, p99, after)
	t.Logf("outage %v; restart took %v; first 200 %v after the restart began; every active user served again %v after the server answered PING",
		restarting.Sub(killed).Round(time.Millisecond), restarted.Sub(restarting).Round(time.Millisecond),
		firstOK.Sub(restarting).Round(time.Millisecond), recovered.Sub(restarted).Round(time.Millisecond))
	if during == 0 {
		t.Error("no request ran entirely during the outage")
	}
	if recovered.Sub(restarted) > 5*time.Second {
		t.Errorf("recovery took %v, want a few seconds", recovered.Sub(restarted))
	}

	// Nothing saved before the outage is lost; no acknowledged write is.
	lost := 0
	for i, cookie := range active {
		user := fmt.Sprintf("active-%d", i)
		o := do(user, "/read", cookie)
		n, err := strconv.Atoi(strings.TrimPrefix(o.body, user+" "))
		if o.status != 200 || err != nil || n < acked[i] {
			lost++
			t.Errorf("%s after the outage: %d %q; last acknowledged n=%d", user, o.status, o.body, acked[i])
		}
	}
	for i, cookie := range idle {
		want := fmt.Sprintf("saved before the outage: idle-%d", i)
		if o := do("", "/note", cookie); o.status != 200 || o.body != want {
			lost++
			t.Errorf("idle-%d after the outage: %d %q", i, o.status, o.body)
		}
	}
	st := c.PoolStats()
	t.Logf("sessions lost: %d of %d; go-redis log lines: %d; pool after the test: %d conns, %d idle, %d timeouts",
		lost, len(active)+len(idle), clientLogs.Load(), st.TotalConns, st.IdleConns, st.Timeouts)
}
