package seshat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
)

// limitRoutes adds a login, a logout that records the owner change, and a
// page that reports why the cookie was dropped.
func limitRoutes() *http.ServeMux {
	mux := routes()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u := r.URL.Query().Get("u")
		s.Renew()
		s.SetUserID(u)
		s.Set("user", u)
	})
	mux.HandleFunc("/signout", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.SetUserID("")
		s.Destroy()
	})
	mux.HandleFunc("/reason", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if err := s.LoadError(); err != nil {
			io.WriteString(w, err.Error())
		}
	})
	return mux
}

// bothModes runs f in cookie mode and in store mode (a memstore on the test
// clock, wrapped to count calls).
func bothModes(t *testing.T, f func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			clk := newClock()
			var store *countingStore
			if mode == "store" {
				store = newCountingStoreAt(clk.Now)
			}
			f(t, clk, store, func(c *seshat.Config) {
				c.Now = clk.Now
				if store != nil {
					c.Store = store
				}
			})
		})
	}
}

func countRecords(t *testing.T, store *countingStore) int {
	t.Helper()
	if store == nil {
		return -1
	}
	n := 0
	err := store.Iterate(context.Background(), func(seshat.SessionInfo) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TO-02 / T-05: activity never extends a session past its creation time +
// AbsoluteTimeout, in either mode; the reason is ErrSessionTimeout, the
// record is deleted and the permanent cookie never promised more.
func TestAbsoluteTimeout(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		m := newManager(t, func(c *seshat.Config) {
			mut(c)
			c.Lifetime = time.Hour
			c.AbsoluteTimeout = 3 * time.Hour
		})
		c := newClient(t, m, limitRoutes())
		start := clk.Now()
		resp, _ := c.get("/perm")
		capAt := "Expires=" + start.Add(time.Hour).UTC().Format(http.TimeFormat)
		if !strings.Contains(resp.Header.Get("Set-Cookie"), capAt) {
			t.Fatalf("first cookie %q lacks %s", resp.Header.Get("Set-Cookie"), capAt)
		}
		// Touch every 30 minutes (half the sliding lifetime) for twice the
		// absolute timeout: alive until 3 h, dead from then on.
		for step := 1; step <= 12; step++ {
			clk.Add(30 * time.Minute)
			resp, body := c.get("/user")
			elapsed := clk.Now().Sub(start)
			if elapsed < 3*time.Hour {
				if body != "alice" {
					t.Fatalf("at %v: %q, want alice", elapsed, body)
				}
				// The permanent cookie's Expires never passes the cap.
				end := start.Add(3 * time.Hour)
				if exp, ok := cookieExpires(resp); ok && exp.After(end) {
					t.Fatalf("at %v: Expires %v past the absolute end %v", elapsed, exp, end)
				}
				continue
			}
			if body != "anonymous" {
				t.Fatalf("at %v: %q, want anonymous", elapsed, body)
			}
			if elapsed == 3*time.Hour && store == nil {
				if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=0") {
					t.Fatalf("expired session not deleted on the client: %q", sc)
				}
			}
		}
		if store != nil && countRecords(t, store) != 0 {
			t.Fatal("expired record still stored")
		}
		return m
	})
}

// TO-02: the reason is available, and a replayed copy of the cookie taken
// before the timeout is refused too (the time is inside the signature). In
// store mode the record's expiry was capped at the same instant, so the
// store no longer has it.
func TestAbsoluteTimeoutReason(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		m := newManager(t, func(c *seshat.Config) { mut(c); c.AbsoluteTimeout = time.Hour })
		c := newClient(t, m, limitRoutes())
		c.get("/set")
		copied := c.cookie
		clk.Add(time.Hour)
		want := seshat.ErrSessionTimeout
		if store != nil {
			want = seshat.ErrInvalidCookie
		}
		if _, body := c.get("/reason"); !strings.Contains(body, want.Error()) {
			t.Fatalf("reason %q", body)
		}
		s := loadWith(t, m, copied)
		if !errors.Is(s.LoadError(), want) || s.Len() != 0 {
			t.Fatalf("replayed copy: %v, %d keys", s.LoadError(), s.Len())
		}
		return m
	})
}

// The load-time check itself, for a record whose store kept it past the
// cap (written by another app, or a store that ignores Expires): it is
// refused with ErrSessionTimeout and deleted.
func TestAbsoluteTimeoutStoreRecordDeleted(t *testing.T) {
	clk := newClock()
	store := newCountingStoreAt(clk.Now)
	m := storeManager(t, store, func(c *seshat.Config) { c.Now = clk.Now; c.AbsoluteTimeout = time.Hour })
	c := newClient(t, m, limitRoutes())
	c.get("/perm")
	old := clk.Now().Add(-2 * time.Hour).Unix()
	store.Iterate(context.Background(), func(in seshat.SessionInfo) error {
		return store.Merge(context.Background(), in.Key, &seshat.Change{
			Set: map[string][]byte{seshat.CreatedKey: []byte(fmt.Sprint(old))}, Expires: clk.Now().Add(time.Hour)})
	})
	store.take()
	if _, body := c.get("/reason"); !strings.Contains(body, seshat.ErrSessionTimeout.Error()) {
		t.Fatalf("reason %q", body)
	}
	if got := fmt.Sprint(store.take()); got != "[Load Delete]" {
		t.Fatalf("store calls %s, want the record loaded then deleted", got)
	}
	if countRecords(t, store) != 0 {
		t.Fatal("record kept")
	}
}

// Login (Renew) starts the absolute period again; a session written without
// the key (a Flask app, or before the option) is stamped on its next use.
func TestAbsoluteTimeoutStartsAtRenewAndStampsOldSessions(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		plain := newManager(t, func(c *seshat.Config) { mut(c) })
		strict := newManager(t, func(c *seshat.Config) { mut(c); c.AbsoluteTimeout = time.Hour })
		c := newClient(t, plain, limitRoutes())
		c.get("/set")
		if s := loadWith(t, plain, c.cookie); s.Has(seshat.CreatedKey) {
			t.Fatal("CreatedKey written without AbsoluteTimeout")
		}
		c2 := newClient(t, strict, limitRoutes())
		c2.cookie = c.cookie
		clk.Add(2 * time.Hour)
		resp, body := c2.get("/user")
		// Cookie mode re-issues the stamped cookie; store mode stamps the
		// record and leaves the browser's (unchanged) session cookie alone.
		if body != "alice" || (resp.Header.Get("Set-Cookie") == "") != (store != nil) {
			t.Fatalf("old session: %q, Set-Cookie %q", body, resp.Header.Get("Set-Cookie"))
		}
		created, err := seshat.Get[int64](loadWith(t, strict, c2.cookie), seshat.CreatedKey)
		if err != nil || created != clk.Now().Unix() {
			t.Fatalf("stamp %d (%v), want %d", created, err, clk.Now().Unix())
		}
		clk.Add(50 * time.Minute)
		c2.get("/login?u=alice") // renews: a new period starts now
		clk.Add(50 * time.Minute)
		if _, body := c2.get("/user"); body != "alice" {
			t.Fatalf("after renew: %q", body)
		}
		clk.Add(11 * time.Minute)
		if _, body := c2.get("/user"); body != "anonymous" {
			t.Fatalf("past renew + timeout: %q", body)
		}
		return strict
	})
}

// TO-01 with IdleTimeout: reading the session every half idle period keeps
// it alive (a non-permanent session, never modified), one idle period
// without a request ends it server-side although the client resends the
// cookie.
func TestIdleTimeout(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		m := newManager(t, func(c *seshat.Config) { mut(c); c.IdleTimeout = 10 * time.Minute })
		c := newClient(t, m, limitRoutes())
		c.get("/set")
		for range 12 {
			clk.Add(5 * time.Minute)
			if _, body := c.get("/user"); body != "alice" {
				t.Fatalf("active session dropped: %q", body)
			}
		}
		copied := c.cookie
		clk.Add(10*time.Minute + time.Second)
		if _, body := c.get("/user"); body != "anonymous" {
			t.Fatalf("idle session still read: %q", body)
		}
		s := loadWith(t, m, copied)
		if s.Len() != 0 {
			t.Fatal("idle copy accepted")
		}
		if store == nil && !errors.Is(s.LoadError(), signing.ErrSignatureExpired) {
			t.Fatalf("cookie-mode idle reason %v", s.LoadError())
		}
		if store != nil && countRecords(t, store) != 0 {
			t.Fatal("idle record still stored")
		}
		return m
	})
}

// An untouched request does not count as activity for a non-permanent
// session, and untouched requests with timeouts off still cost nothing.
func TestIdleTimeoutUntouchedIsNotActivity(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		m := newManager(t, func(c *seshat.Config) { mut(c); c.IdleTimeout = 10 * time.Minute })
		c := newClient(t, m, limitRoutes())
		c.get("/set")
		for range 3 {
			clk.Add(4 * time.Minute)
			if resp, _ := c.get("/noop"); resp.Header.Get("Set-Cookie") != "" {
				t.Fatal("untouched request re-issued the cookie")
			}
		}
		if _, body := c.get("/user"); body != "anonymous" {
			t.Fatalf("untouched requests kept the session alive: %q", body)
		}
		return m
	})
}

func TestTimeoutConfigValidation(t *testing.T) {
	for _, cfg := range []seshat.Config{
		{Keys: [][]byte{testKey}, AbsoluteTimeout: -1},
		{Keys: [][]byte{testKey}, IdleTimeout: -time.Second},
	} {
		if _, err := seshat.New(cfg); !errors.Is(err, seshat.ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// generations is an application's per-user counter, the kind kept in a
// users table column.
type generations struct {
	mu    sync.Mutex
	gen   map[string]uint64
	calls int
	fail  error
}

func (g *generations) Get(_ context.Context, user string) (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	return g.gen[user], g.fail
}

func (g *generations) bump(user string) {
	g.mu.Lock()
	g.gen[user]++
	g.mu.Unlock()
}

// LC-05 / T-04: with Config.Generation, a copy of a logged-in cookie taken
// before logout is refused once the application bumps the user's
// generation, in cookie mode as in store mode, and so is the user's session
// on another device; other users are untouched.
func TestRailsCookieStoreReplayRevokedByGeneration(t *testing.T) {
	bothModes(t, func(t *testing.T, clk *clock, store *countingStore, mut func(*seshat.Config)) *seshat.Manager {
		gens := &generations{gen: map[string]uint64{"alice": 4}}
		m := newManager(t, func(c *seshat.Config) { mut(c); c.Generation = gens.Get })
		alice := newClient(t, m, limitRoutes())
		laptop := newClient(t, m, limitRoutes())
		bob := newClient(t, m, limitRoutes())
		alice.get("/login?u=alice")
		laptop.get("/login?u=alice")
		bob.get("/login?u=bob")
		stolen := alice.cookie
		if uid, err := seshat.Get[[]any](loadWith(t, m, stolen), seshat.GenerationKey); err != nil || fmt.Sprint(uid) != "[alice 4]" {
			t.Fatalf("generation in session: %v %v", uid, err)
		}
		gens.mu.Lock()
		gens.calls = 0
		gens.mu.Unlock()
		if _, body := alice.get("/user"); body != "alice" {
			t.Fatalf("before logout: %q", body)
		}
		if gens.calls != 1 {
			t.Fatalf("%d generation lookups for one request, want 1", gens.calls)
		}
		alice.get("/signout")
		gens.bump("alice") // the application's logout step
		alice.cookie = stolen
		if _, body := alice.get("/user"); body != "anonymous" {
			t.Fatalf("replayed pre-logout cookie accepted: %q", body)
		}
		if s := loadWith(t, m, stolen); store == nil && !errors.Is(s.LoadError(), seshat.ErrSessionRevoked) {
			t.Fatalf("reason %v", s.LoadError())
		}
		if _, body := laptop.get("/reason"); !strings.Contains(body, seshat.ErrSessionRevoked.Error()) {
			t.Fatalf("other device of the user: %q", body)
		}
		if _, body := bob.get("/user"); body != "bob" {
			t.Fatalf("another user's session dropped: %q", body)
		}
		// A new login carries the new generation and works.
		alice.cookie = ""
		alice.get("/login?u=alice")
		if _, body := alice.get("/user"); body != "alice" {
			t.Fatalf("login after bump: %q", body)
		}
		return m
	})
}

// Without Config.Generation a cookie-mode session cannot be revoked: a copy
// taken before logout still works afterwards. This is the documented
// limitation (docs/SECURITY.md, threat model), asserted so that it cannot
// change unnoticed.
func TestRailsCookieStoreReplayWithoutGeneration(t *testing.T) {
	m := newManager(t, nil)
	c := newClient(t, m, limitRoutes())
	c.get("/login?u=alice")
	stolen := c.cookie
	c.get("/signout")
	c.cookie = stolen
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("got %q: if cookie mode became revocable, update docs/SECURITY.md (LC-05)", body)
	}
}

// A failing generation source fails the request closed (503) instead of
// serving the session or replacing it with an empty one; anonymous
// sessions never call it.
func TestGenerationLookupFailureFailsClosed(t *testing.T) {
	gens := &generations{gen: map[string]uint64{}}
	m := newManager(t, func(c *seshat.Config) { c.Generation = gens.Get })
	c := newClient(t, m, limitRoutes())
	c.get("/set")
	if gens.calls != 0 {
		t.Fatalf("anonymous session looked up %d times", gens.calls)
	}
	c.get("/login?u=alice")
	gens.mu.Lock()
	gens.fail = errors.New("db down")
	gens.mu.Unlock()
	before := c.cookie
	resp, _ := c.get("/user")
	if resp.StatusCode != http.StatusServiceUnavailable || c.cookie != before {
		t.Fatalf("status %d, cookie changed %v", resp.StatusCode, c.cookie != before)
	}
	gens.mu.Lock()
	gens.fail = nil
	gens.mu.Unlock()
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("after recovery: %q", body)
	}
}

// A tampered or malformed generation entry (only a key holder can write
// one) ends the session rather than skipping the check.
func TestGenerationMalformedEntry(t *testing.T) {
	gens := &generations{gen: map[string]uint64{}}
	m := newManager(t, func(c *seshat.Config) { c.Generation = gens.Get })
	for _, v := range []any{"alice", []any{"alice"}, []any{"", "0"}, []any{"alice", "x"}, []any{"alice", int64(0)}} {
		val, err := m.Codec().Encode(map[string]any{"user": "alice", seshat.GenerationKey: v}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if s := loadWith(t, m, val); s.Len() != 0 || !errors.Is(s.LoadError(), seshat.ErrSessionRevoked) {
			t.Errorf("%v: %d keys, %v", v, s.Len(), s.LoadError())
		}
	}
}

// loadWith reads a session from a cookie value outside the middleware.
func loadWith(t *testing.T, m *seshat.Manager, value string) *seshat.Session {
	t.Helper()
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", m.CookieName()+"="+value)
	s, err := m.Load(r.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cookieExpires(resp *http.Response) (time.Time, bool) {
	for _, c := range resp.Cookies() {
		if !c.Expires.IsZero() {
			return c.Expires, true
		}
	}
	return time.Time{}, false
}
