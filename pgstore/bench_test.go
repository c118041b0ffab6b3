package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/cputime"
	"github.com/seshat-go/seshat/internal/strmap"
	"github.com/seshat-go/seshat/storetest"
)

// open gives the shared store benchmarks a store on its own table.
func open(b *testing.B, extra int) (seshat.Store, string) {
	pool := testPool(b, "seshat-pgstore-bench", nil)
	s := newTestStore(b, pool, Options{})
	k := storetest.Key()
	if err := s.Save(b.Context(), k, storetest.BenchRecord(extra)); err != nil {
		b.Fatal(err)
	}
	return s, k
}

func BenchmarkLoad(b *testing.B)  { storetest.BenchLoad(b, open) }
func BenchmarkMerge(b *testing.B) { storetest.BenchMerge(b, open) }
func BenchmarkTouch(b *testing.B) { storetest.BenchTouch(b, open) }
func BenchmarkSave(b *testing.B)  { storetest.BenchSave(b, open) }

// benchKey is the key of the i-th session the fill below writes.
func benchKey(i int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(sum[:])
}

// fill writes n live sessions into table, in statements of at most 100000
// rows, with keys shaped like seshat's (hex SHA-256).
func fill(b *testing.B, pool *pgxpool.Pool, table string, n int) {
	t := pgx.Identifier{table}.Sanitize()
	data := string(must(strmap.Encode(storetest.BenchValues(0))))
	for lo := 1; lo <= n; lo += 100000 {
		hi := min(lo+100000-1, n)
		_, err := pool.Exec(context.Background(), `INSERT INTO `+t+` (key, data, user_id, expires_at)
SELECT encode(sha256(i::text::bytea), 'hex'), $3::jsonb, 'u' || (i % 100000), now() + interval '1 day'
FROM generate_series($1::int, $2::int) i`, lo, hi, data)
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(context.Background(), `VACUUM ANALYZE `+t); err != nil {
		b.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkLiveSessions measures request-shaped traffic (a Load on a random
// session, and a Merge into it for one request in four) from 8 goroutines,
// on a table of 1000 live sessions and on one of 1000000. The tables are
// dropped afterwards. -short skips the 1M table.
func BenchmarkLiveSessions(b *testing.B) {
	pool := testPool(b, "seshat-pgstore-bench", func(c *pgxpool.Config) { c.MaxConns = 8 })
	sizes := []int{1000, 1000000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, n := range sizes {
		table := tempTable(b, pool)
		s := newTestStore(b, pool, Options{Table: table})
		start := time.Now()
		fill(b, pool, table, n)
		var size string
		pool.QueryRow(context.Background(), `SELECT pg_size_pretty(pg_total_relation_size($1::regclass))`, table).Scan(&size)
		b.Logf("%d sessions written in %v; table with indexes: %s", n, time.Since(start).Round(time.Millisecond), size)
		name := fmt.Sprint(n/1000, "k")
		if n >= 1000000 {
			name = fmt.Sprint(n/1000000, "M")
		}
		b.Run(name, func(b *testing.B) {
			exp := time.Now().Add(time.Hour)
			b.ReportAllocs()
			defer storetest.ReportCPU(b, cputime.Process())
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for i := 0; pb.Next(); i++ {
					k := benchKey(1 + r.IntN(n))
					if _, err := s.Load(b.Context(), k); err != nil {
						b.Error(err)
						return
					}
					if i%4 == 0 {
						ch := &seshat.Change{Set: vals("cart", strconv.Itoa(i)), Expires: exp}
						if err := s.Merge(b.Context(), k, ch); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
		})
	}
}
func BenchmarkTake(b *testing.B) { storetest.BenchTake(b, open) }
