package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/cputime"
)

// The benchmark helpers below give every store the same micro-benchmarks
// of its own operations on its real engine, each reporting, besides ns/op,
// the process's CPU time per operation as cpu-ns/op (for a client/server
// engine, the client side only). A store's bench_test.go calls them:
//
//	func BenchmarkMerge(b *testing.B) { storetest.BenchMerge(b, open) }

// BenchOpen returns a store over an empty namespace that already holds one
// record of [BenchValues](extra), and that record's key; it arranges its
// cleanup with b.Cleanup.
type BenchOpen func(b *testing.B, extra int) (seshat.Store, string)

// BenchValues is a typical logged-in session's record (six short values,
// Flask-Login's and Flask-WTF's keys among them) plus extra one-digit keys.
func BenchValues(extra int) map[string][]byte {
	v := map[string][]byte{
		"_permanent": []byte(`true`),
		"_user_id":   []byte(`"12345"`),
		"_fresh":     []byte(`true`),
		"csrf_token": []byte(`"4f1c0a1b2e3d4c5b6a7988776655443322110000"`),
		"cart":       []byte(`[{"sku":"A1","qty":2},{"sku":"B7","qty":1}]`),
		"_flashes":   []byte(`[{" t":["message","Welcome back"]}]`),
	}
	for i := range extra {
		v[fmt.Sprint("k", i)] = []byte(fmt.Sprint(i))
	}
	return v
}

// BenchRecord is the record BenchOpen stores: BenchValues(extra), an hour
// to live, owned by user 12345.
func BenchRecord(extra int) *seshat.Record {
	return &seshat.Record{Values: BenchValues(extra), Expires: time.Now().Add(time.Hour), UserID: "12345"}
}

// ReportCPU adds the process's CPU time per operation since start as the
// metric cpu-ns/op; defer it right after the set-up:
//
//	defer storetest.ReportCPU(b, cputime.Process())
func ReportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchLoad measures Load of the record.
func BenchLoad(b *testing.B, open BenchOpen) {
	s, k := open(b, 0)
	b.ReportAllocs()
	defer ReportCPU(b, cputime.Process())
	for b.Loop() {
		if _, err := s.Load(b.Context(), k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchMerge measures a request's typical write (one key set, one deleted)
// on a record of 6 keys and on one of 1006, where a store that rewrites
// the whole record pays for all of them. The store must be a Merger.
func BenchMerge(b *testing.B, open BenchOpen) {
	for _, extra := range []int{0, 1000} {
		b.Run(fmt.Sprintf("keys=%d", 6+extra), func(b *testing.B) {
			s, k := open(b, extra)
			m, ok := s.(seshat.Merger)
			if !ok {
				b.Fatalf("%T is not a seshat.Merger", s)
			}
			exp := time.Now().Add(time.Hour)
			b.ReportAllocs()
			defer ReportCPU(b, cputime.Process())
			i := 0
			for b.Loop() {
				i++
				ch := &seshat.Change{
					Set:     map[string][]byte{"cart": fmt.Appendf(nil, `[{"sku":"A1","qty":%d}]`, i)},
					Delete:  []string{"_flashes"},
					Expires: exp,
				}
				if err := m.Merge(b.Context(), k, ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchTouch measures moving the record's expiry. The store must be a
// Toucher.
func BenchTouch(b *testing.B, open BenchOpen) {
	s, k := open(b, 0)
	t, ok := s.(seshat.Toucher)
	if !ok {
		b.Fatalf("%T is not a seshat.Toucher", s)
	}
	b.ReportAllocs()
	defer ReportCPU(b, cputime.Process())
	for b.Loop() {
		if err := t.Touch(b.Context(), k, time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSave measures replacing the whole record.
func BenchSave(b *testing.B, open BenchOpen) {
	s, k := open(b, 0)
	rec := BenchRecord(0)
	b.ReportAllocs()
	defer ReportCPU(b, cputime.Process())
	for b.Loop() {
		if err := s.Save(b.Context(), k, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchTake measures Take of a value that is not there (what every page
// that shows flashes pays when there are none) and, as "present", a Merge
// that flashes a message followed by the Take that removes it. The store
// must be a Taker and a Merger.
func BenchTake(b *testing.B, open BenchOpen) {
	s, k := open(b, 0)
	tk, ok := s.(seshat.Taker)
	m, ok2 := s.(seshat.Merger)
	if !ok || !ok2 {
		b.Fatalf("%T is not a seshat.Taker and a seshat.Merger", s)
	}
	b.Run("missing", func(b *testing.B) {
		b.ReportAllocs()
		defer ReportCPU(b, cputime.Process())
		for b.Loop() {
			if _, ok, err := tk.Take(b.Context(), k, "absent"); err != nil || ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("present", func(b *testing.B) {
		ch := &seshat.Change{Set: map[string][]byte{"_flashes": []byte(`[{" t":["message","hi"]}]`)}, Expires: time.Now().Add(time.Hour)}
		b.ReportAllocs()
		defer ReportCPU(b, cputime.Process())
		for b.Loop() {
			if err := m.Merge(b.Context(), k, ch); err != nil {
				b.Fatal(err)
			}
			if _, ok, err := tk.Take(b.Context(), k, "_flashes"); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
}
