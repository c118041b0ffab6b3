package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// benchServer starts a redis-server of the benchmark's own (no persistence)
// and returns a client for it.
func benchServer(b *testing.B) *redis.Client {
	b.Helper()
	srv := startServer(b, "--save", "", "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), PoolSize: 64})
	b.Cleanup(func() { c.Close() })
	return c
}

func benchValues() map[string][]byte {
	return map[string][]byte{
		"_permanent": []byte(`true`),
		"user":       []byte(`"alice"`),
		"cart":       []byte(`[1,2,{"sku":"A1","qty":2}]`),
		"csrf_token": []byte(`"0123456789abcdef0123456789abcdef01234567"`),
		"_fresh":     []byte(`true`),
	}
}

// BenchmarkStore measures each operation on one session, one request at a
// time (latency) and from many goroutines (throughput), on a local
// redis-server started for the benchmark, with the default batching of
// concurrent calls.
func BenchmarkStore(b *testing.B) { benchStore(b, Options{}) }

// BenchmarkStoreUnbatched is BenchmarkStore with batching turned off: every
// call is its own round trip, as go-redis sends it. Compare the Parallel
// figures of the two with benchstat to see what batching saves.
func BenchmarkStoreUnbatched(b *testing.B) { benchStore(b, Options{MaxInFlight: -1}) }

func benchStore(b *testing.B, opts Options) {
	c := benchServer(b)
	s := New(c, opts)
	ctx := context.Background()
	key := storetest.Key()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, key, &seshat.Record{Values: benchValues(), Expires: exp, UserID: "alice"}); err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name string
		fn   func(i int) error
	}{
		{"Load", func(int) error { _, err := s.Load(ctx, key); return err }},
		{"Merge", func(i int) error {
			return s.Merge(ctx, key, &seshat.Change{Set: map[string][]byte{"n": []byte(strconv.Itoa(i))}, Expires: exp})
		}},
		{"Touch", func(int) error { return s.Touch(ctx, key, exp) }},
		// A take that finds no value (the common case: most requests have
		// no flashed message) runs the whole script but the HDEL.
		{"TakeMissing", func(int) error { _, _, err := s.Take(ctx, key, "_flashes"); return err }},
		{"SaveNew", func(int) error {
			return s.Save(ctx, storetest.Key(), &seshat.Record{Values: benchValues(), Expires: time.Now().Add(time.Minute)})
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := op.fn(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(op.name+"Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := op.fn(i); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// fill writes n sessions in the store's layout under s's prefix, pipelined
// (10,000 commands per round trip), and returns their keys.
func fill(b *testing.B, c *redis.Client, s *Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	keys := make([]string, n)
	exp := time.Now().Add(time.Hour).UnixMilli()
	start := time.Now()
	for lo := 0; lo < n; lo += 5000 {
		pipe := c.Pipeline()
		for i := lo; i < min(lo+5000, n); i++ {
			keys[i] = storetest.Key()
			hk := s.sessionKey(keys[i])
			pipe.HSet(ctx, hk, "m:exp", exp, "v:user", `"user-`+strconv.Itoa(i)+`"`, "v:_permanent", "true", "v:n", "0")
			pipe.PExpireAt(ctx, hk, time.UnixMilli(exp))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	mem, _ := c.Info(ctx, "memory").Result()
	used := ""
	for _, l := range strings.Split(mem, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory_human:"); ok {
			used = v
		}
	}
	b.Logf("filled %d sessions in %v; Redis used_memory %s", n, time.Since(start).Round(time.Millisecond), used)
	return keys
}

// BenchmarkScale compares a request's store work (Load then Merge of one
// key, as a write through the Manager) on random sessions among 1,000 and
// among 1,000,000 live ones. 1M small hashes take about 200 MB in the
// redis-server started for it; it is stopped afterwards.
func BenchmarkScale(b *testing.B) {
	c := benchServer(b)
	ctx := context.Background()
	for _, n := range []int{1_000, 1_000_000} {
		s := New(c, Options{Prefix: fmt.Sprintf("scale%d:", n)})
		keys := fill(b, c, s, n) // once, outside the timed sub-benchmark
		exp := time.Now().Add(time.Hour)
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 1))
				for pb.Next() {
					k := keys[r.IntN(len(keys))]
					if _, err := s.Load(ctx, k); err != nil {
						b.Error(err)
						return
					}
					if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"n": []byte("1")}, Expires: exp}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
		})
		if err := c.FlushDB(ctx).Err(); err != nil { // the benchmark's own server
			b.Fatal(err)
		}
	}
}
