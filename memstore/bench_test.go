package memstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/storetest"
)

func benchValues() map[string][]byte {
	return map[string][]byte{
		"_user_id":   []byte(`"42"`),
		"csrf_token": []byte(`"3f786850e387550fdab836ed7e6dc881de23001b"`),
		"theme":      []byte(`"dark"`),
		"cart":       []byte(`[1,2,3]`),
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	s := memstore.New(memstore.Options{SweepInterval: -1})
	k := storetest.Key()
	s.Save(context.Background(), k, &seshat.Record{Values: benchValues(), Expires: time.Now().Add(time.Hour)})
	for b.Loop() {
		if _, err := s.Load(context.Background(), k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	b.ReportAllocs()
	s := memstore.New(memstore.Options{SweepInterval: -1})
	k := storetest.Key()
	exp := time.Now().Add(time.Hour)
	s.Save(context.Background(), k, &seshat.Record{Values: benchValues(), Expires: exp})
	ch := &seshat.Change{Set: map[string][]byte{"theme": []byte(`"light"`)}, Expires: exp}
	for b.Loop() {
		if err := s.Merge(context.Background(), k, ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGC300kSessions fills a store with 300,000 sessions of the
// benchmark server's shape (user_id, a 40-hex csrf_token, theme, cart; no
// owner, as its /login saves them) and reports what a forced collection
// costs with them live, and the heap each session holds after it.
func BenchmarkGC300kSessions(b *testing.B) {
	const sessions = 300_000
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := memstore.New(memstore.Options{SweepInterval: -1})
	defer s.Close()
	exp := time.Now().Add(time.Hour)
	for range sessions {
		values := map[string][]byte{
			"user_id":    []byte(`"42"`),
			"csrf_token": []byte(`"3f786850e387550fdab836ed7e6dc881de23001b"`),
			"theme":      []byte(`"dark"`),
			"cart":       []byte(`[1,2,3]`),
		}
		if err := s.Save(ctx, storetest.Key(), &seshat.Record{Values: values, Expires: exp}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/GC")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/sessions, "heapB/session")
	runtime.KeepAlive(s)
}
