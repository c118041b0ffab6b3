package sqlitestore

import (
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/cputime"
	"github.com/seshat-go/seshat/storetest"
)

// open gives the shared store benchmarks a store in its own database.
func open(b *testing.B, extra int) (seshat.Store, string) {
	s := newTestStore(b, Options{})
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

func BenchmarkLoadParallel(b *testing.B) {
	s, k := open(b, 0)
	b.ReportAllocs()
	defer storetest.ReportCPU(b, cputime.Process())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Load(b.Context(), k); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTake measures Take of a value the record does not hold (what
// flash.Pop costs on most pages) and of one it holds (put back by a Merge
// in each iteration, so "present" is a Merge plus a Take).
func BenchmarkTake(b *testing.B) { storetest.BenchTake(b, open) }
