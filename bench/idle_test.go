package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// idleSessions is how many sessions each heap measurement holds.
const idleSessions = 50_000

// Both libraries hold the same small logged-in session.
func sessionValues(i int) map[string]any {
	return map[string]any{
		"user_id":    fmt.Sprint(i),
		"csrf_token": "3f786850e387550fdab836ed7e6dc881de23001b",
		"theme":      "dark",
		"cart":       []int{1, 2, 3},
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleHeapSeshatMemstore reports the heap one idle session costs
// in seshat's memstore, created through the Manager as an app would.
func BenchmarkIdleHeapSeshatMemstore(b *testing.B) {
	for b.Loop() {
		store := memstore.New(memstore.Options{SweepInterval: -1})
		m, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("bench-key-bench-key-bench-key-01")}, Store: store})
		if err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		for i := range idleSessions {
			r := httptest.NewRequest("GET", "/", nil)
			s, _ := m.Load(context.Background(), r)
			for k, v := range sessionValues(i) {
				s.Set(k, v)
			}
			if err := m.Save(context.Background(), httptest.NewRecorder(), s); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/idleSessions, "B/session")
		runtime.KeepAlive(store)
	}
}

// BenchmarkIdleHeapScsMemstore is the same with alexedwards/scs v2 and its
// memstore.
func BenchmarkIdleHeapScsMemstore(b *testing.B) {
	for b.Loop() {
		// No cleanup goroutine: nothing expires during the measurement, and
		// scs's StopCleanup races with that goroutine's start.
		store := scsmem.NewWithCleanupInterval(0)
		sm := scs.New()
		sm.Store = store
		before := heapInUse()
		for i := range idleSessions {
			ctx, err := sm.Load(context.Background(), "")
			if err != nil {
				b.Fatal(err)
			}
			for k, v := range sessionValues(i) {
				sm.Put(ctx, k, v)
			}
			if _, _, err := sm.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/idleSessions, "B/session")
		runtime.KeepAlive(store)
	}
}
