package seshat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/seshat-go/seshat"
)

// takingStore adds Take to countingStore: Load, then a Merge deleting the
// name, under a lock (atomic against other Takes, which is what these
// tests race).
type takingStore struct {
	*countingStore
	mu sync.Mutex
}

func (s *takingStore) Take(ctx context.Context, key, name string) ([]byte, bool, error) {
	if err := s.note("Take", key); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.Store.Load(ctx, key)
	if errors.Is(err, seshat.ErrNoRecord) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, ok := rec.Values[name]
	if !ok {
		return nil, false, nil
	}
	return v, true, s.Store.Merge(ctx, key, &seshat.Change{Delete: []string{name}, Expires: rec.Expires})
}

func takeRoutes() *http.ServeMux {
	mux := routes()
	mux.HandleFunc("/flash", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("_flashes", "hello")
	})
	mux.HandleFunc("/take", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if r.FormValue("set") != "" {
			s.Set("_flashes", "mine")
		}
		v, ok, err := s.Take("_flashes")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%v %v", v, ok)
	})
	return mux
}

// TestTakeStore: with a Taker the value comes from the store at once, the
// response writes nothing back (no Merge, no Set-Cookie), and a later
// request does not see it; a value the request set itself is popped
// locally; a store failure leaves everything as it was.
func TestTakeStore(t *testing.T) {
	store := &takingStore{countingStore: newCountingStore()}
	c := newClient(t, storeManager(t, store, nil), takeRoutes())
	c.get("/set")
	c.get("/flash")
	store.take()
	resp, body := c.get("/take")
	if body != "hello true" || fmt.Sprint(store.take()) != "[Load Take]" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("take: %q, store calls, Set-Cookie %q", body, resp.Header.Get("Set-Cookie"))
	}
	store.take()
	if _, body = c.get("/take"); body != "<nil> false" || fmt.Sprint(store.take()) != "[Load]" {
		t.Fatalf("second take: %q: a key the session does not hold costs a store call", body)
	}
	if _, body = c.get("/user"); body != "alice" {
		t.Fatalf("other values after take: %q", body)
	}
	store.take()
	if _, body = c.get("/take?set=1"); body != "mine true" || fmt.Sprint(store.take()) != "[Load Merge]" {
		t.Fatalf("take of a value set in the same request: %q", body)
	}
	c.get("/flash")
	store.setFail(errors.New("db down"))
	resp, _ = c.get("/take")
	store.setFail(nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("store failure: status %d", resp.StatusCode)
	}
	if _, body = c.get("/take"); body != "hello true" {
		t.Fatalf("the failed take consumed the value: %q", body)
	}
}

// TestTakeCookieMode: without a store Take is Pop: the cookie is re-issued
// without the value.
func TestTakeCookieMode(t *testing.T) {
	c := newClient(t, newManager(t, nil), takeRoutes())
	c.get("/flash")
	resp, body := c.get("/take")
	if body != "hello true" || resp.Header.Get("Set-Cookie") == "" {
		t.Fatalf("cookie-mode take: %q, Set-Cookie %q", body, resp.Header.Get("Set-Cookie"))
	}
	if _, body = c.get("/take"); body != "<nil> false" {
		t.Fatalf("taken twice: %q", body)
	}
}
