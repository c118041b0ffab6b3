package seshat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

// renewSetup is a store-mode manager with a 10-minute renewal timeout and a
// 30-second grace, on a test clock.
func renewSetup(t *testing.T) (*seshat.Manager, *countingStore, *clock) {
	clk := newClock()
	store := newCountingStoreAt(clk.Now)
	m := storeManager(t, store, func(c *seshat.Config) {
		c.Now = clk.Now
		c.RenewAfter = 10 * time.Minute
		c.RenewGrace = 30 * time.Second
	})
	return m, store, clk
}

func idOf(cookie string) string {
	if len(cookie) < 43 {
		return ""
	}
	return cookie[:43]
}

// TO-05: an id older than RenewAfter is replaced at the next request that
// uses the session, the values stay, the old id leads to the new session
// for RenewGrace only, and a logout of the new session ends the old id's
// forward too.
func TestRenewalTimeout(t *testing.T) {
	m, store, clk := renewSetup(t)
	c := newClient(t, m, routes())
	c.get("/set")
	first := c.cookie
	clk.Add(9 * time.Minute)
	if resp, body := c.get("/user"); body != "alice" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("before RenewAfter: %q, Set-Cookie %q", body, resp.Header.Get("Set-Cookie"))
	}
	clk.Add(2 * time.Minute)
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("at renewal: %q", body)
	}
	second := c.cookie
	if idOf(second) == idOf(first) || idOf(second) == "" {
		t.Fatal("id not renewed after RenewAfter")
	}
	// Within the grace period the old cookie reaches the new session and
	// is handed the new id.
	clk.Add(10 * time.Second)
	old := newClient(t, m, routes())
	old.cookie = first
	if _, body := old.get("/user"); body != "alice" || idOf(old.cookie) != idOf(second) {
		t.Fatalf("old cookie in grace: %q, moved to the new id: %v", body, idOf(old.cookie) == idOf(second))
	}
	// After it, the old id is dead.
	clk.Add(21 * time.Second)
	old.cookie = first
	if _, body := old.get("/user"); body != "anonymous" {
		t.Fatalf("old cookie after grace: %q", body)
	}
	if _, err := store.Load(context.Background(), seshat.StoreKey(idOf(first))); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("retired record after grace: %v", err)
	}
	// A renewal never revives a logged-out session through its forward.
	clk.Add(11 * time.Minute)
	c.get("/user") // renews again
	third := c.cookie
	c.get("/logout")
	old.cookie = second
	if _, body := old.get("/user"); body != "anonymous" {
		t.Fatalf("forward to a logged-out session: %q", body)
	}
	if idOf(third) == idOf(second) {
		t.Fatal("second renewal did not happen")
	}
}

// TO-05 / T-05: two requests carrying the same cookie load the session at
// renewal time; the first to finish renews it, the second writes into the
// new session instead of renewing again: both succeed, both answer with the
// one new id, and both writes are in it.
func TestRenewalTimeoutConcurrentRequests(t *testing.T) {
	m, store, clk := renewSetup(t)
	loaded := make(chan struct{})
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	mux := routes()
	mux.HandleFunc("/gate", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		who := r.URL.Query().Get("who")
		user, _ := s.Get("user")
		loaded <- struct{}{}
		<-release[who]
		s.Set(who, 1)
		io.WriteString(w, user.(string))
	})
	c := newClient(t, m, mux)
	c.get("/set")
	old := c.cookie
	clk.Add(11 * time.Minute)

	type result struct {
		status int
		body   string
		id     string
	}
	results := map[string]chan result{"a": make(chan result, 1), "b": make(chan result, 1)}
	for _, who := range []string{"a", "b"} {
		go func() {
			req, _ := http.NewRequest("GET", c.srv.URL+"/gate?who="+who, nil)
			req.Header.Set("Cookie", "session="+old)
			resp, err := c.srv.Client().Do(req)
			if err != nil {
				results[who] <- result{status: -1}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			v, _ := strings.CutPrefix(strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0], "session=")
			results[who] <- result{resp.StatusCode, string(b), idOf(v)}
		}()
	}
	<-loaded
	<-loaded // both requests hold the old session
	close(release["a"])
	ra := <-results["a"]
	close(release["b"])
	rb := <-results["b"]
	if ra.status != 200 || rb.status != 200 || ra.body != "alice" || rb.body != "alice" {
		t.Fatalf("responses: %+v %+v", ra, rb)
	}
	if ra.id == "" || ra.id == idOf(old) || rb.id != ra.id {
		t.Fatalf("ids: old %.8s, a %.8s, b %.8s; want one new id for both", idOf(old), ra.id, rb.id)
	}
	rec, err := store.Load(context.Background(), seshat.StoreKey(ra.id))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Values["a"] == nil || rec.Values["b"] == nil || rec.Values["user"] == nil {
		t.Fatalf("new session lost a write: keys %v", keysOf(rec.Values))
	}
	n := 0
	store.Iterate(context.Background(), func(in seshat.SessionInfo) error {
		if in.Key != seshat.StoreKey(idOf(old)) {
			n++
		}
		return nil
	})
	if n != 1 {
		t.Fatalf("%d live sessions besides the retired one, want exactly 1", n)
	}
}

// The store never learns the new id from the forward it keeps, and the
// retired record keeps no session data: only the masked forward.
func TestRenewalForwardIsMasked(t *testing.T) {
	m, store, clk := renewSetup(t)
	c := newClient(t, m, routes())
	c.get("/set")
	old := c.cookie
	clk.Add(11 * time.Minute)
	c.get("/user")
	rec, err := store.Load(context.Background(), seshat.StoreKey(idOf(old)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rec.Values {
		if strings.Contains(string(v), idOf(c.cookie)) || strings.Contains(k, idOf(c.cookie)) {
			t.Fatalf("retired record holds the new id under %q", k)
		}
	}
	if len(rec.Values) != 1 { // the masked forward, no session data
		t.Fatalf("retired record keys %v", keysOf(rec.Values))
	}
}

func TestRenewAfterNeedsStore(t *testing.T) {
	if _, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, RenewAfter: time.Hour}); !errors.Is(err, seshat.ErrConfig) {
		t.Fatalf("cookie mode with RenewAfter: %v", err)
	}
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A session renewed twice within one grace period (RenewAfter shorter than
// RenewGrace) is reached from the first id through both forwards.
func TestRenewalForwardChain(t *testing.T) {
	clk := newClock()
	store := newCountingStoreAt(clk.Now)
	m := storeManager(t, store, func(c *seshat.Config) {
		c.Now = clk.Now
		c.RenewAfter = time.Minute
		c.RenewGrace = 10 * time.Minute
	})
	c := newClient(t, m, routes())
	c.get("/set")
	first := c.cookie
	for range 2 {
		clk.Add(2 * time.Minute)
		c.get("/user")
	}
	old := newClient(t, m, routes())
	old.cookie = first
	if _, body := old.get("/user"); body != "alice" || idOf(old.cookie) == idOf(first) {
		t.Fatalf("first id through two forwards: %q", body)
	}
	if s := loadWith(t, m, first); s.Has("_seshat_next") || s.Len() != 3 {
		t.Fatalf("followed session keys %v", s.Keys())
	}
}
