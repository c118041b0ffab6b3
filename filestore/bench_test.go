package filestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
	"github.com/seshat-go/seshat/storetest"
)

// benchValues is a typical small session: a user, a CSRF token, a cart and
// the permanent flag, in tagged JSON.
func benchValues() map[string][]byte {
	return map[string][]byte{
		"_permanent": []byte(`true`),
		"_user_id":   []byte(`"42"`),
		"csrf_token": []byte(`"3f2a9c0b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"`),
		"cart":       []byte(`[{"sku":"A1","qty":2},{"sku":"B7","qty":1}]`),
		"_flashes":   []byte(`{" t":["info","added"]}`),
	}
}

func benchStore(b *testing.B, noSync bool) *filestore.Store {
	s, err := filestore.New(b.TempDir(), filestore.Options{CleanupInterval: -1, NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkLoad(b *testing.B) {
	s := benchStore(b, true)
	ctx := context.Background()
	k := newKey()
	if err := s.Save(ctx, k, &seshat.Record{Values: benchValues(), Expires: time.Now().Add(time.Hour), UserID: "42"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMerge(b *testing.B, noSync bool, extra int) {
	s := benchStore(b, noSync)
	ctx := context.Background()
	k := newKey()
	vals := benchValues()
	for i := range extra {
		vals[fmt.Sprintf("k%04d", i)] = []byte(`"some value"`)
	}
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, k, &seshat.Record{Values: vals, Expires: exp, UserID: "42"}); err != nil {
		b.Fatal(err)
	}
	ch := &seshat.Change{Set: map[string][]byte{"cart": []byte(`[{"sku":"A1","qty":3}]`)}, Delete: []string{"_flashes"}, Expires: exp}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Merge(ctx, k, ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge measures one request's change to a small session: read,
// change, write a temporary file, rename.
func BenchmarkMerge(b *testing.B) {
	b.Run("NoSync", func(b *testing.B) { benchMerge(b, true, 0) })
	b.Run("NoSync/500keys", func(b *testing.B) { benchMerge(b, true, 500) })
	b.Run("Fsync", func(b *testing.B) { benchMerge(b, false, 0) })
}

// BenchmarkTake measures Take of a value the session does not hold (one
// lock-free read: what flash.Pop costs on most pages) and of one it holds,
// put back by a Merge in each iteration ("present" is a Merge and a Take).
func BenchmarkTake(b *testing.B) {
	storetest.BenchTake(b, func(b *testing.B, extra int) (seshat.Store, string) {
		s, k := benchStore(b, true), newKey()
		if err := s.Save(b.Context(), k, storetest.BenchRecord(extra)); err != nil {
			b.Fatal(err)
		}
		return s, k
	})
}
