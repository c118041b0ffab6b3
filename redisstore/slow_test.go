package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// TestSlowStore freezes a redis-server of the test's own (CLIENT PAUSE) and
// checks that a request whose context has a deadline gets
// ErrStoreUnavailable when the deadline passes rather than when the server
// wakes up (T-10), with a client built as the package documentation advises
// (ContextTimeoutEnabled). The bound is the deadline plus a second, far
// below the 5 s pause: it tells "gave up at the deadline" from "waited for
// the server" even on a loaded CI machine, without timing the client.
func TestSlowStore(t *testing.T) {
	if testing.Short() {
		t.Skip("slow-store test skipped in -short mode")
	}
	srv := startServer(t, "--save", "", "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true})
	defer c.Close()
	admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer admin.Close()
	s := New(c, Options{})
	key := storetest.Key()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(t.Context(), key, rec("", exp, "a", "1")); err != nil {
		t.Fatal(err)
	}
	// Warm the pool and the script cache.
	if err := s.Merge(t.Context(), key, &seshat.Change{Set: map[string][]byte{"a": []byte("2")}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "5000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	const deadline = 300 * time.Millisecond
	for _, op := range []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Load", func(ctx context.Context) error { _, err := s.Load(ctx, key); return err }},
		{"Merge", func(ctx context.Context) error {
			return s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"b": []byte("3")}, Expires: exp})
		}},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		start := time.Now()
		err := op.fn(ctx)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Errorf("%s on a frozen server: %v, want ErrStoreUnavailable", op.name, err)
		}
		if took > deadline+time.Second {
			t.Errorf("%s took %v with a %v deadline", op.name, took, deadline)
		}
		t.Logf("%s on a frozen server: %v after %v", op.name, err, took.Round(time.Millisecond))
	}
	// Once the pause ends the store works again; the merge that timed out
	// may or may not have run (it is idempotent), the session is intact.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		got, err := s.Load(ctx, key)
		if err == nil {
			if string(got.Values["a"]) != "2" {
				t.Fatalf("after the pause: %v", got.Values)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("store not back after the pause: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
