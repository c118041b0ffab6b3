package seshat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// countingStore records every call that reaches the store, and can fail on
// demand, around a real memstore.
type countingStore struct {
	*memstore.Store
	mu    sync.Mutex
	calls []string
	keys  []string
	fail  error // returned by every call while set
}

func newCountingStore() *countingStore { return newCountingStoreAt(nil) }

// newCountingStoreAt runs the store on the manager's test clock.
func newCountingStoreAt(now func() time.Time) *countingStore {
	return &countingStore{Store: memstore.New(memstore.Options{SweepInterval: -1, Now: now})}
}

func (c *countingStore) note(op, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, op)
	c.keys = append(c.keys, key)
	return c.fail
}

func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls, c.keys = nil, nil
	return out
}

func (c *countingStore) setFail(err error) {
	c.mu.Lock()
	c.fail = err
	c.mu.Unlock()
}

func (c *countingStore) Load(ctx context.Context, key string) (*seshat.Record, error) {
	if err := c.note("Load", key); err != nil {
		return nil, err
	}
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, key string, r *seshat.Record) error {
	if err := c.note("Save", key); err != nil {
		return err
	}
	return c.Store.Save(ctx, key, r)
}

func (c *countingStore) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	if err := c.note("Merge", key); err != nil {
		return err
	}
	return c.Store.Merge(ctx, key, ch)
}

func (c *countingStore) Touch(ctx context.Context, key string, t time.Time) error {
	if err := c.note("Touch", key); err != nil {
		return err
	}
	return c.Store.Touch(ctx, key, t)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	if err := c.note("Delete", key); err != nil {
		return err
	}
	return c.Store.Delete(ctx, key)
}

func storeManager(t *testing.T, store seshat.Store, mut func(*seshat.Config)) *seshat.Manager {
	return newManager(t, func(c *seshat.Config) {
		c.Store = store
		c.Logger = slog.New(slog.DiscardHandler)
		if mut != nil {
			mut(c)
		}
	})
}

func TestStoreRoundTripsPerRequest(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())

	c.get("/set")
	if got := store.take(); fmt.Sprint(got) != "[Save]" {
		t.Fatalf("new session write: %v, want one Save", got)
	}
	c.get("/noop")
	if got := store.take(); len(got) != 0 {
		t.Fatalf("untouched request: %v, want no store call", got)
	}
	_, body := c.get("/user")
	if got := store.take(); fmt.Sprint(got) != "[Load]" || body != "alice" {
		t.Fatalf("read: %v %q, want one Load", got, body)
	}
	c.get("/set")
	if got := store.take(); fmt.Sprint(got) != "[Load Merge]" {
		t.Fatalf("write: %v, want Load then Merge", got)
	}
}

func TestStorePermanentRefreshIsOneTouch(t *testing.T) {
	clk := newClock()
	store := newCountingStoreAt(clk.Now)
	m := storeManager(t, store, func(c *seshat.Config) { c.Now = clk.Now; c.Lifetime = time.Hour })
	c := newClient(t, m, routes())
	c.get("/perm")
	store.take()
	clk.Add(30 * time.Minute)
	resp, _ := c.get("/noop")
	if got := store.take(); fmt.Sprint(got) != "[Touch]" {
		t.Fatalf("untouched permanent session: %v, want a single Touch", got)
	}
	want := "Expires=" + clk.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if !strings.Contains(resp.Header.Get("Set-Cookie"), want) {
		t.Fatalf("cookie %q lacks %s", resp.Header.Get("Set-Cookie"), want)
	}
	// The expiry really slid: 45 more minutes is past the first hour.
	clk.Add(45 * time.Minute)
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("sliding expiry lost the session: %q", body)
	}
}

func TestStoreOutageFailsClosed(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	saved := c.cookie
	store.setFail(fmt.Errorf("dial tcp 127.0.0.1:6379: %w", seshat.ErrStoreUnavailable))
	resp, body := c.get("/user")
	if resp.StatusCode != http.StatusServiceUnavailable || body == "anonymous" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("outage on load: %d %q %q; want 503 and no cookie", resp.StatusCode, body, resp.Header.Get("Set-Cookie"))
	}
	// Any store error fails closed, not only the marked ones.
	store.setFail(errors.New("ERR wrong type"))
	resp, _ = c.get("/set")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("unmarked store error: %d, want 503", resp.StatusCode)
	}
	store.setFail(nil)
	if c.cookie != saved {
		t.Fatal("the client's cookie changed during the outage")
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("session lost after the outage: %q", body)
	}
	// A failing save after a good load fails closed too.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Get("user")
		store.setFail(seshat.ErrStoreUnavailable)
		s.Set("n", 1)
		io.WriteString(w, "handler output")
	})
	c2 := newClient(t, m, h)
	c2.cookie = saved
	resp, body = c2.get("/")
	store.setFail(nil)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "handler output") {
		t.Fatalf("failed save: %d %q", resp.StatusCode, body)
	}
}

func TestStoreErrExposedToHandler(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	store.setFail(seshat.ErrStoreUnavailable)
	var seen error
	c2 := newClient(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = seshat.FromContext(r.Context()).Err()
	}))
	c2.cookie = c.cookie
	c2.get("/")
	if !errors.Is(seen, seshat.ErrStoreUnavailable) {
		t.Fatalf("Err() = %v", seen)
	}
}

func TestStoreCorruptRecord(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	// Corrupt every stored value.
	store.Store.Iterate(t.Context(), func(in seshat.SessionInfo) error {
		return store.Store.Save(t.Context(), in.Key, &seshat.Record{Values: map[string][]byte{"user": []byte(`{"unterminated`)}, Expires: in.Expires})
	})
	resp, body := c.get("/user")
	if resp.StatusCode != 200 || body != "anonymous" {
		t.Fatalf("corrupt record: %d %q, want the request served with an empty session", resp.StatusCode, body)
	}
}

func TestGO_2024_2730_StoreNeverSeesForgedIDs(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	for _, forged := range []string{
		"../../etc/passwd", "a/b", "%00", strings.Repeat("A", 10000), "not-base64!!",
		strings.Repeat("A", 43), strings.Repeat("A", 43) + ".p", strings.Repeat("A", 43) + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		c.cookie = forged
		if _, body := c.get("/user"); body != "anonymous" {
			t.Fatalf("%q: %q", forged, body)
		}
		if got := store.take(); len(got) != 0 {
			t.Fatalf("forged cookie %.20q reached the store: %v (SID-03)", forged, got)
		}
	}
}

// TestCVE_2025_46336_StoreNoResurrection: request A has loaded the session when request B
// logs out; A's later write must not bring the session back (rack-session
// CVE-2025-46336).
func TestCVE_2025_46336_StoreNoResurrection(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	loaded, release := make(chan struct{}), make(chan struct{})
	mux := routes()
	mux.HandleFunc("/slow-write", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Get("user")
		close(loaded)
		<-release
		s.Set("late", "write")
	})
	c := newClient(t, m, mux)
	c.get("/set")
	cookie := c.cookie
	done := make(chan *http.Response)
	go func() {
		cA := *c
		resp, _ := cA.get("/slow-write")
		done <- resp
	}()
	<-loaded
	cB := *c
	cB.get("/logout")
	close(release)
	respA := <-done
	if sc := respA.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "session=;") {
		t.Fatalf("the late writer got %q, want the deletion cookie", sc)
	}
	n := 0
	store.Store.Iterate(t.Context(), func(seshat.SessionInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d records after logout: the session was resurrected", n)
	}
	c.cookie = cookie
	if _, body := c.get("/user"); body != "anonymous" {
		t.Fatalf("replayed cookie after logout: %q", body)
	}
}

func TestCVE_2019_16782_StoreCookieCarriesOnlyID(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	if strings.Contains(c.cookie, "alice") || len(c.cookie) > 120 {
		t.Fatalf("store-mode cookie %q", c.cookie)
	}
	id := strings.SplitN(c.cookie, ".", 2)[0]
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, k := range store.keys {
		if strings.Contains(k, id) {
			t.Fatal("the raw session id reached the store (SID-04)")
		}
	}
}

// corruptStore reports every record as corrupt, the way a store wraps
// seshat.ErrCorruptRecord.
type corruptStore struct{ *countingStore }

func (c corruptStore) Load(ctx context.Context, key string) (*seshat.Record, error) {
	if _, err := c.countingStore.Load(ctx, key); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("teststore: %w: missing metadata", seshat.ErrCorruptRecord)
}

func TestStoreCorruptRecordFromStore(t *testing.T) {
	inner := newCountingStore()
	m := storeManager(t, corruptStore{inner}, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	old := c.cookie
	resp, body := c.get("/user")
	if resp.StatusCode != 200 || body != "anonymous" {
		t.Fatalf("corrupt record: %d %q; want the request served with a fresh session, not 503", resp.StatusCode, body)
	}
	c.get("/set")
	if c.cookie == old {
		t.Fatal("a write after a corrupt record kept the old id")
	}
}

func TestStoreRecordTooLarge(t *testing.T) {
	store := newCountingStore()
	var got error
	m := storeManager(t, store, func(c *seshat.Config) {
		c.MaxRecordSize = 64 << 10
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			http.Error(w, "too large", http.StatusInternalServerError)
		}
	})
	mux := routes()
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("blob", strings.Repeat("x", 100<<10))
	})
	c := newClient(t, m, mux)
	// A new session (Save path) and an existing one (Merge path).
	for _, path := range []string{"/huge", "/set", "/huge"} {
		resp, _ := c.get(path)
		calls := store.take()
		if path != "/huge" {
			continue
		}
		if resp.StatusCode != 500 || !errors.Is(got, seshat.ErrRecordTooLarge) {
			t.Fatalf("%s: status %d, err %v", path, resp.StatusCode, got)
		}
		for _, call := range calls {
			if call == "Save" || call == "Merge" {
				t.Fatalf("an oversized record reached the store: %v", calls)
			}
		}
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("the session before the refused write is gone: %q", body)
	}
}

// TestStoreCookieSentBack: a write to a stored session answers with the
// very cookie the request sent when re-signing would give the same bytes,
// and re-signs it after a key rotation (an old key's signature must not
// outlive the key) or when the session becomes permanent.
func TestStoreCookieSentBack(t *testing.T) {
	oldKey := []byte("an-older-key-0123456789abcdef-0123")
	store := memstore.New(memstore.Options{SweepInterval: -1})
	mk := func(keys ...[]byte) *seshat.Manager {
		return newManager(t, func(c *seshat.Config) { c.Keys, c.Store = keys, store })
	}
	old := newClient(t, mk(oldKey), routes())
	old.get("/set")
	signedOld := old.cookie

	rotated := mk(oldKey, testKey)
	c := newClient(t, rotated, routes())
	c.cookie = signedOld
	resp, _ := c.get("/set")
	if c.cookie == signedOld || resp.Header.Get("Set-Cookie") == "" {
		t.Fatalf("after rotation the cookie signed with the old key was sent back: %q", resp.Header.Get("Set-Cookie"))
	}
	if _, body := newClientWith(t, mk(testKey), c.cookie).get("/user"); body != "alice" {
		t.Fatalf("re-signed cookie not accepted by the new key alone: %q", body)
	}
	current := c.cookie
	resp, _ = c.get("/set")
	if c.cookie != current {
		t.Fatalf("a current cookie was re-signed differently: %q, then %q", current, c.cookie)
	}
	// The browser already holds that session cookie: a write that keeps
	// the id sends no Set-Cookie (nor the Cache-Control that goes with
	// one), but the response still varies on the cookie.
	if sc := resp.Header.Get("Set-Cookie"); sc != "" {
		t.Fatalf("unchanged session cookie sent again: %q", sc)
	}
	if resp.Header.Get("Vary") != "Cookie" || resp.Header.Get("Cache-Control") != "" {
		t.Fatalf("Vary %q, Cache-Control %q", resp.Header.Get("Vary"), resp.Header.Get("Cache-Control"))
	}
	if _, body := c.get("/user"); body != "alice" {
		t.Fatalf("write without Set-Cookie lost the session: %q", body)
	}
	resp, _ = c.get("/perm")
	if c.cookie == current || !strings.Contains(c.cookie, ".p.") || resp.Header.Get("Cache-Control") != "private" {
		t.Fatalf("session made permanent kept the non-permanent cookie: %q", c.cookie)
	}
	// A permanent session's cookie carries an Expires that slides: every
	// write sends it.
	if resp, _ = c.get("/set"); !strings.Contains(resp.Header.Get("Set-Cookie"), "Expires=") {
		t.Fatalf("permanent session written without its cookie: %q", resp.Header.Get("Set-Cookie"))
	}
}

// newClientWith is newClient already holding a cookie.
func newClientWith(t *testing.T, m *seshat.Manager, cookie string) *client {
	c := newClient(t, m, routes())
	c.cookie = cookie
	return c
}
