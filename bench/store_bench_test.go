package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sqlitestore"
)

// The store micro-benchmarks time one Load and one Save of the small
// session through the seshat.Store interface, as the Manager calls them:
//
//	go test -run '^$' -bench Store -count 10 ./bench | benchstat -col /store -
//
// Redis and PostgreSQL are the shared test servers ($SESHAT_REDIS_ADDR,
// $SESHAT_PG_URL, else the local ones); without them those sub-benchmarks
// skip (or fail with SESHAT_REQUIRE_SERVICES=1), as every test does.

// storeRecord is the HTTP benchmark's session as a store keeps it: each
// value in Flask's tagged JSON.
func storeRecord() *seshat.Record {
	return &seshat.Record{
		Values: map[string][]byte{
			"user_id":    []byte(`"42"`),
			"csrf_token": []byte(`"3f786850e387550fdab836ed7e6dc881de23001b"`),
			"theme":      []byte(`"dark"`),
			"cart":       []byte(`[1,2,3]`),
		},
		Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond),
	}
}

// storeKey is a key as seshat hands it to a store: 64 hex digits.
func storeKey() string {
	var b [32]byte
	rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// openStore opens one store for tb and closes it (and removes what it
// created) when tb ends.
type openStore func(tb testing.TB) seshat.Store

var stores = []struct {
	name string
	open openStore
}{
	{"memstore", func(tb testing.TB) seshat.Store {
		s := memstore.New(memstore.Options{SweepInterval: -1})
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"redis", func(tb testing.TB) seshat.Store {
		addr := envOr("SESHAT_REDIS_ADDR", "127.0.0.1:6379")
		testenv.Dial(tb, "Redis", addr)
		c := redis.NewClient(&redis.Options{Addr: addr})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			c.Close()
			testenv.Unavailable(tb, "Redis", err)
		}
		prefix := "seshat-bench-test:" + storeKey()[:12] + ":"
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		tb.Cleanup(func() {
			s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			keys, _ := c.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				c.Del(ctx, keys...)
			}
			c.Close()
		})
		return s
	}},
	{"postgres", func(tb testing.TB) seshat.Store {
		pgURL := envOr("SESHAT_PG_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		u, err := url.Parse(pgURL)
		if err != nil {
			tb.Fatal(err)
		}
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		testenv.Dial(tb, "PostgreSQL", net.JoinHostPort(u.Hostname(), port))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, pgURL)
		if err == nil {
			err = pool.Ping(ctx)
		}
		if err != nil {
			if pool != nil {
				pool.Close()
			}
			testenv.Unavailable(tb, "PostgreSQL", err)
		}
		table := "seshat_bench_test_" + storeKey()[:12]
		s, err := pgstore.New(ctx, pool, pgstore.Options{Table: table})
		if err != nil {
			pool.Close()
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS "`+table+`"`); err != nil {
				tb.Errorf("drop %s: %v", table, err)
			}
			pool.Close()
		})
		return s
	}},
	{"sqlite", func(tb testing.TB) seshat.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := sqlitestore.Open(ctx, filepath.Join(tb.TempDir(), "sessions.db"), sqlitestore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}

// BenchmarkStore times Load of a stored session and Save over an existing
// one, for each store.
func BenchmarkStore(b *testing.B) {
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			s := st.open(b)
			ctx := context.Background()
			key, rec := storeKey(), storeRecord()
			if err := s.Save(ctx, key, rec); err != nil {
				b.Fatal(err)
			}
			b.Run("op=load", func(b *testing.B) {
				loop(b, func() error { _, err := s.Load(ctx, key); return err })
			})
			b.Run("op=save", func(b *testing.B) {
				loop(b, func() error { return s.Save(ctx, key, rec) })
			})
		})
	}
}

// TestStoresRoundTrip checks that what each benchmarked store saves it
// loads back unchanged, and that a missing key is ErrNoRecord: the
// benchmark measures stores that work.
func TestStoresRoundTrip(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.open(t)
			ctx := context.Background()
			key, rec := storeKey(), storeRecord()
			if err := s.Save(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(got.Values, rec.Values, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Errorf("loaded %q, want %q", got.Values, rec.Values)
			}
			if !got.Expires.Equal(rec.Expires) {
				t.Errorf("expires %v, want %v", got.Expires, rec.Expires)
			}
			if _, err := s.Load(ctx, storeKey()); !errors.Is(err, seshat.ErrNoRecord) {
				t.Errorf("Load of a key never saved: %v, want ErrNoRecord", err)
			}
		})
	}
}
