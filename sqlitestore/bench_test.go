package sqlitestore

import (
	"fmt"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/cputime"
	"github.com/seshat-go/seshat/storetest"
)

// benchValues is a typical logged-in session: a few short values.
func benchValues(extra int) map[string][]byte {
	v := vals(
		"_permanent", `true`,
		"_user_id", `"12345"`,
		"_fresh", `true`,
		"csrf_token", `"4f1c0a1b2e3d4c5b6a7988776655443322110000"`,
		"cart", `[{"sku":"A1","qty":2},{"sku":"B7","qty":1}]`,
		"_flashes", `[{" t":["message","Welcome back"]}]`,
	)
	for i := range extra {
		v[fmt.Sprint("k", i)] = []byte(fmt.Sprint(i))
	}
	return v
}

func benchStore(b *testing.B, extra int) (*Store, string) {
	s := newTestStore(b, Options{})
	k := storetest.Key()
	if err := s.Save(b.Context(), k, &seshat.Record{Values: benchValues(extra), Expires: time.Now().Add(time.Hour), UserID: "12345"}); err != nil {
		b.Fatal(err)
	}
	return s, k
}

func BenchmarkLoad(b *testing.B) {
	s, k := benchStore(b, 0)
	b.ReportAllocs()
	defer reportCPU(b, cputime.Process())
	for b.Loop() {
		if _, err := s.Load(b.Context(), k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	s, k := benchStore(b, 0)
	b.ReportAllocs()
	defer reportCPU(b, cputime.Process())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Load(b.Context(), k); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMerge(b *testing.B) {
	for _, extra := range []int{0, 1000} {
		b.Run(fmt.Sprintf("keys=%d", 6+extra), func(b *testing.B) {
			s, k := benchStore(b, extra)
			exp := time.Now().Add(time.Hour)
			b.ReportAllocs()
			defer reportCPU(b, cputime.Process())
			i := 0
			for b.Loop() {
				i++
				ch := &seshat.Change{Set: vals("cart", fmt.Sprintf(`[{"sku":"A1","qty":%d}]`, i)), Delete: []string{"_flashes"}, Expires: exp}
				if err := s.Merge(b.Context(), k, ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTouch(b *testing.B) {
	s, k := benchStore(b, 0)
	b.ReportAllocs()
	defer reportCPU(b, cputime.Process())
	for b.Loop() {
		if err := s.Touch(b.Context(), k, time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	s, k := benchStore(b, 0)
	rec := &seshat.Record{Values: benchValues(0), Expires: time.Now().Add(time.Hour), UserID: "12345"}
	b.ReportAllocs()
	defer reportCPU(b, cputime.Process())
	for b.Loop() {
		if err := s.Save(b.Context(), k, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU adds the process's CPU time per operation since start (the
// client side only, for PostgreSQL) as the metric cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
	}
}
