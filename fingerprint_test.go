package seshat_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seshat-go/seshat"
)

// fpRoutes adds /fp, which answers the session's fingerprint without
// touching the session otherwise, and /login?u=ID, which records a user the
// way package login does.
func fpRoutes(key []byte) *http.ServeMux {
	mux := routes()
	mux.HandleFunc("/fp", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, seshat.FromContext(r.Context()).Fingerprint(key))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew()
		u := r.URL.Query().Get("u")
		s.SetUserID(u)
		s.Set("_user_id", u)
		before := s.Fingerprint(key)
		w.WriteHeader(http.StatusOK) // the save mints the new id
		io.WriteString(w, before+" "+s.Fingerprint(key))
	})
	return mux
}

func TestFingerprintStoreMode(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	a, b := newClient(t, m, fpRoutes(nil)), newClient(t, m, fpRoutes(nil))
	if _, fp := a.get("/fp"); fp != "" {
		t.Fatalf("a session without an id has fingerprint %q", fp)
	}
	a.get("/set")
	b.get("/set")
	store.take()
	resp, fpA := a.get("/fp")
	if len(fpA) != seshat.FingerprintLen || strings.Trim(fpA, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q is not %d hex characters", fpA, seshat.FingerprintLen)
	}
	if calls := store.take(); len(calls) != 0 {
		t.Fatalf("Fingerprint asked the store: %v", calls)
	}
	if resp.Header.Get("Vary") != "" {
		t.Fatal("Fingerprint marked the session accessed (Vary: Cookie)")
	}
	if _, again := a.get("/fp"); again != fpA {
		t.Fatalf("fingerprint changed between requests: %q then %q", fpA, again)
	}
	if _, fpB := b.get("/fp"); fpB == fpA || fpB == "" {
		t.Fatalf("two sessions: %q and %q", fpA, fpB)
	}
	id, _, _ := strings.Cut(a.cookie, ".")
	if strings.Contains(fpA, id[:6]) {
		t.Fatal("the fingerprint shows part of the id")
	}
	_, both := a.get("/login?u=alice")
	before, after, _ := strings.Cut(both, " ")
	if before != fpA || after == fpA || len(after) != seshat.FingerprintLen {
		t.Fatalf("around Renew: before %q after %q (old %q)", before, after, fpA)
	}
	if _, fp := a.get("/fp"); fp != after {
		t.Fatalf("next request after Renew: %q, the response's last line said %q", fp, after)
	}
}

func TestFingerprintCookieModeNamesTheUser(t *testing.T) {
	m := newManager(t, nil)
	c1, c2, c3 := newClient(t, m, fpRoutes(nil)), newClient(t, m, fpRoutes(nil)), newClient(t, m, fpRoutes(nil))
	c1.get("/set")
	if _, fp := c1.get("/fp"); fp != "" {
		t.Fatalf("anonymous cookie session has fingerprint %q", fp)
	}
	_, both := c1.get("/login?u=alice")
	_, fp1 := c1.get("/fp")
	if before, after, _ := strings.Cut(both, " "); before != fp1 || after != fp1 {
		t.Fatalf("in the login request %q, then %q", both, fp1)
	}
	c2.get("/login?u=alice")
	c3.get("/login?u=bob")
	_, fp2 := c2.get("/fp")
	_, fp3 := c3.get("/fp")
	if fp1 == "" || fp2 != fp1 || fp3 == fp1 || fp3 == "" {
		t.Fatalf("alice %q and %q, bob %q", fp1, fp2, fp3)
	}
}

func TestFingerprintKey(t *testing.T) {
	m := newManager(t, nil)
	rotated := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{testKey, []byte("a-newer-key-of-32-bytes-or-more!!")} })
	own := []byte("fingerprint-key-0123456789abcdef")
	var fps []string
	for _, tc := range []struct {
		m   *seshat.Manager
		key []byte
	}{{m, nil}, {rotated, nil}, {m, own}, {rotated, own}} {
		c := newClient(t, tc.m, fpRoutes(tc.key))
		c.get("/login?u=alice")
		_, fp := c.get("/fp")
		fps = append(fps, fp)
	}
	if fps[0] == fps[1] {
		t.Error("the derived key did not follow the newest signing key")
	}
	if fps[2] != fps[3] || fps[2] == fps[0] || slices.Contains(fps, "") {
		t.Errorf("an explicit key must give one fingerprint across rotation: %q", fps)
	}
}

// TestFingerprintHasNoSideEffects: in cookie mode, fingerprinting an
// untouched request neither loads the session (no Generation call) nor
// changes the response.
func TestFingerprintHasNoSideEffects(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	m := newManager(t, func(c *seshat.Config) {
		c.Generation = func(context.Context, string) (uint64, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return 1, nil
		}
	})
	c := newClient(t, m, fpRoutes(nil))
	c.get("/login?u=alice")
	mu.Lock()
	calls = 0
	mu.Unlock()
	resp, fp := c.get("/fp")
	if fp == "" {
		t.Fatal("no fingerprint for a logged-in cookie session")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 0 || resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("Vary") != "" {
		t.Fatalf("Fingerprint loaded the session: %d Generation calls, Set-Cookie %q, Vary %q",
			calls, resp.Header.Get("Set-Cookie"), resp.Header.Get("Vary"))
	}
}
