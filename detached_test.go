package seshat_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

// counterRoutes adds /inc?k=KEY, which increments one key, and /get?k=KEY.
func counterRoutes() *http.ServeMux {
	mux := routes()
	mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		k := r.URL.Query().Get("k")
		s.Set(k, seshat.GetOr(s, k, 0)+1)
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, seshat.GetOr(seshat.FromContext(r.Context()), r.URL.Query().Get("k"), -1))
	})
	return mux
}

// socketHandler plays a websocket endpoint with a bare hijacked connection:
// it detaches the session at the handshake, then serves line commands from
// the connection's goroutine long after the middleware committed the
// request's session. Commands: "set KEY N", "reload", "get KEY", "clear".
func socketHandler(t *testing.T, m *seshat.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := m.Detach(r.Context(), r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n")
		brw.Flush()
		ctx := context.Background() // r's context is not the connection's
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			reply := "ok"
			switch f[0] {
			case "set":
				n, _ := strconv.Atoi(f[2])
				d.Set(f[1], n)
				err = d.Save(ctx)
			case "reload":
				err = d.Reload(ctx)
			case "get":
				reply = strconv.Itoa(seshat.GetOr(d.Session, f[1], -1))
			case "clear":
				d.Clear()
				err = d.Save(ctx)
			}
			if err != nil {
				reply = "error " + err.Error()
			}
			brw.WriteString(reply + "\n")
			brw.Flush()
		}
	}
}

// dialSocket opens the line socket with c's cookie.
func dialSocket(t *testing.T, c *client) (send func(cmd string) string) {
	t.Helper()
	conn, err := net.Dial("tcp", c.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: test\r\nCookie: %s=%s\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n", c.name, c.cookie)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return func(cmd string) string {
		fmt.Fprintf(conn, "%s\n", cmd)
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(line)
	}
}

// TestDetachedNoLostUpdates: a socket goroutine and concurrent HTTP requests
// change different keys of one stored session; every update persists, and
// the socket's Reload sees the requests' values.
func TestDetachedNoLostUpdates(t *testing.T) {
	m := storeManager(t, newCountingStore(), nil)
	mux := counterRoutes()
	mux.HandleFunc("/ws", socketHandler(t, m))
	c := newClient(t, m, mux)
	c.get("/set")
	send := dialSocket(t, c)

	const requesters, perRequester, socketWrites = 4, 15, 40
	var wg sync.WaitGroup
	for i := range requesters {
		wg.Go(func() {
			cc := *c
			for range perRequester {
				cc.get("/inc?k=h" + strconv.Itoa(i))
			}
		})
	}
	for i := range socketWrites {
		if got := send(fmt.Sprintf("set ws %d", i)); got != "ok" {
			t.Fatalf("socket save %d: %s", i, got)
		}
	}
	wg.Wait()

	for i := range requesters {
		if _, body := c.get("/get?k=h" + strconv.Itoa(i)); body != strconv.Itoa(perRequester) {
			t.Errorf("h%d = %s after %d increments: updates lost", i, body, perRequester)
		}
	}
	if _, body := c.get("/get?k=ws"); body != strconv.Itoa(socketWrites-1) {
		t.Errorf("ws = %s, want %d: the socket's saves were lost", body, socketWrites-1)
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Errorf("user = %q: a save clobbered a key nobody changed", body)
	}
	if got := send("get h0"); got != "-1" {
		t.Fatalf("before Reload the socket's copy has h0 = %s", got)
	}
	if got := send("reload"); got != "ok" {
		t.Fatal(got)
	}
	if got := send("get h3"); got != strconv.Itoa(perRequester) {
		t.Errorf("after Reload h3 = %s", got)
	}
}

// detachFor loads c's session detached, as a handshake would.
func detachFor(t *testing.T, m *seshat.Manager, c *client) *seshat.Detached {
	t.Helper()
	d, err := m.Detach(t.Context(), handshake(c))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// handshake is a request carrying c's cookie.
func handshake(c *client) *http.Request {
	r, _ := http.NewRequest("GET", "/ws", nil)
	if c.cookie != "" {
		r.Header.Set("Cookie", c.name+"="+c.cookie)
	}
	return r
}

func TestDetachedCookieModeKeepsACopy(t *testing.T) {
	m := newManager(t, nil)
	c := newClient(t, m, counterRoutes())
	c.get("/set")
	d := detachFor(t, m, c)
	if u, _ := seshat.Get[string](d.Session, "user"); u != "alice" {
		t.Fatalf("detached cookie session user = %q", u)
	}
	if err := d.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Set("n", 8)
	if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrNoCookieAfterUpgrade) {
		t.Fatalf("cookie-mode Save: %v", err)
	}
	if n := seshat.GetOr(d.Session, "n", 0); n != 8 {
		t.Fatalf("the connection's copy lost its change: n = %d", n)
	}
	if _, body := c.get("/get?k=n"); body != "7" {
		t.Fatalf("the cookie changed without a response: n = %s", body)
	}
}

func TestDetachedNeedsACookieFor(t *testing.T) {
	m := storeManager(t, newCountingStore(), nil)
	c := newClient(t, m, counterRoutes())
	t.Run("new session", func(t *testing.T) {
		d := detachFor(t, m, c)
		if !d.IsNew() {
			t.Fatal("no cookie but not new")
		}
		d.Set("a", 1)
		if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrNoCookieAfterUpgrade) {
			t.Fatalf("Save of a session with no record: %v", err)
		}
		if err := d.Reload(t.Context()); err != nil {
			t.Fatalf("Reload of a session with no record: %v", err)
		}
	})
	t.Run("renew", func(t *testing.T) {
		c.get("/set")
		d := detachFor(t, m, c)
		d.Renew()
		if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrNoCookieAfterUpgrade) {
			t.Fatalf("Save after Renew: %v", err)
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		d := detachFor(t, m, c)
		d.Get("user")
		if err := d.Save(t.Context()); err != nil {
			t.Fatalf("Save without changes: %v", err)
		}
	})
}

// TestDetachedAfterLogout: a request destroys the session; the socket learns
// it from Reload and Save, and its late write does not resurrect it.
func TestDetachedAfterLogout(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, counterRoutes())
	c.get("/set")
	cookie := c.cookie
	d := detachFor(t, m, c)
	c.get("/logout")
	if err := d.Reload(t.Context()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Reload after logout: %v", err)
	}
	d.Set("late", 1)
	if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Save after logout: %v", err)
	}
	c.cookie = cookie
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("the detached save resurrected the session: %q", body)
	}
}

func TestDetachedClearDeletesRecord(t *testing.T) {
	m := storeManager(t, newCountingStore(), nil)
	mux := counterRoutes()
	mux.HandleFunc("/ws", socketHandler(t, m))
	c := newClient(t, m, mux)
	c.get("/set")
	send := dialSocket(t, c)
	if got := send("clear"); got != "ok" {
		t.Fatal(got)
	}
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("after a detached Clear the session is %q", body)
	}
}

// TestDetachedStoreFailureKeepsChanges: a failed Save reports the outage and
// keeps the change, so a retry writes it.
func TestDetachedStoreFailureKeepsChanges(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, counterRoutes())
	c.get("/set")
	d := detachFor(t, m, c)
	d.Set("n", 9)
	store.setFail(fmt.Errorf("%w: connection refused", seshat.ErrStoreUnavailable))
	if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Save during an outage: %v", err)
	}
	if err := d.Reload(t.Context()); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Reload during an outage: %v", err)
	}
	store.setFail(nil)
	if err := d.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get("/get?k=n"); body != "9" {
		t.Fatalf("n = %s after the retry", body)
	}
	if _, err := m.Detach(t.Context(), handshake(c)); err != nil {
		t.Fatal(err)
	}
	store.setFail(fmt.Errorf("%w: timeout", seshat.ErrStoreUnavailable))
	if _, err := m.Detach(t.Context(), handshake(c)); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Detach during an outage: %v", err)
	}
}

// TestDetachedKeepsTheLimits: a connection cannot keep a session past
// AbsoluteTimeout, and its saves slide the expiry no further than
// IdleTimeout.
func TestDetachedKeepsTheLimits(t *testing.T) {
	clk := newClock()
	store := newCountingStoreAt(clk.Now)
	m := storeManager(t, store, func(c *seshat.Config) {
		c.Now = clk.Now
		c.IdleTimeout = time.Hour
		c.AbsoluteTimeout = 8 * time.Hour
	})
	c := newClient(t, m, counterRoutes())
	c.get("/set")
	d := detachFor(t, m, c)
	clk.Add(30 * time.Minute)
	d.Set("n", 1)
	if err := d.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	var expires []time.Time
	store.Store.Iterate(t.Context(), func(i seshat.SessionInfo) error { expires = append(expires, i.Expires); return nil })
	if len(expires) != 1 || !expires[0].Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("record expires %v, want now + IdleTimeout (%v)", expires, clk.Now().Add(time.Hour))
	}
	// Keep it busy: every save slides the idle expiry, never past the
	// absolute one (8h after the start).
	var err error
	for i := 0; err == nil; i++ {
		if i == 20 {
			t.Fatal("a busy connection kept the session past AbsoluteTimeout")
		}
		clk.Add(50 * time.Minute)
		d.Set("n", i)
		err = d.Save(t.Context())
	}
	if !errors.Is(err, seshat.ErrSessionGone) || clk.Now().Before(time.Unix(1710000000, 0).Add(8*time.Hour)) {
		t.Fatalf("at %v: %v", clk.Now(), err)
	}
	if err := d.Reload(t.Context()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Reload past AbsoluteTimeout: %v", err)
	}
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("the timed-out session still serves requests: %q", body)
	}
}

// TestDetachedRevokedByGeneration: bumping the owner's generation (log out
// everywhere) ends the connection's session at its next Reload.
func TestDetachedRevokedByGeneration(t *testing.T) {
	var mu sync.Mutex
	gen := uint64(1)
	m := storeManager(t, newCountingStore(), func(c *seshat.Config) {
		c.Generation = func(context.Context, string) (uint64, error) {
			mu.Lock()
			defer mu.Unlock()
			return gen, nil
		}
	})
	mux := counterRoutes()
	mux.HandleFunc("/owner", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).SetUserID("alice")
	})
	c := newClient(t, m, mux)
	c.get("/set")
	c.get("/owner")
	d := detachFor(t, m, c)
	if err := d.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	gen++
	mu.Unlock()
	err := d.Reload(t.Context())
	if !errors.Is(err, seshat.ErrSessionGone) || !errors.Is(err, seshat.ErrSessionRevoked) {
		t.Fatalf("Reload after the generation changed: %v", err)
	}
	if d.Len() != 0 {
		t.Fatalf("the revoked copy still holds %v", d.Keys())
	}
}

// plainStore hides every optional capability of the store it wraps: it is
// the bare Store interface, with no Merger.
type plainStore struct{ seshat.Store }

// TestDetachedWithoutMergerKeepsOthersChanges: with a store that cannot
// merge, a detached Save still keeps what a request saved since Detach
// instead of writing back its stale copy.
func TestDetachedWithoutMergerKeepsOthersChanges(t *testing.T) {
	m := storeManager(t, plainStore{newCountingStore()}, nil)
	c := newClient(t, m, counterRoutes())
	c.get("/set")
	d := detachFor(t, m, c)
	c.get("/inc?k=h")
	d.Set("ws", 1)
	d.Delete("n")
	if err := d.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"h": "1", "ws": "1", "n": "-1"} {
		if _, body := c.get("/get?k=" + k); body != want {
			t.Errorf("%s = %s, want %s", k, body, want)
		}
	}
	if h := seshat.GetOr(d.Session, "h", 0); h != 1 {
		t.Errorf("the copy did not take the record it wrote: h = %d", h)
	}
	c.get("/logout")
	d.Set("ws", 2)
	if err := d.Save(t.Context()); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Save after logout without a Merger: %v", err)
	}
}
