package mysqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/mysqlstore"
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

func benchSession(b *testing.B, extra int) (*mysqlstore.Store, string) {
	s := openStore(b, testDB(b), mysqlstore.Options{})
	k := newKey()
	v := benchValues()
	for i := range extra {
		v[fmt.Sprintf("k%04d", i)] = []byte(`"some value"`)
	}
	if err := s.Save(context.Background(), k, &seshat.Record{Values: v, Expires: time.Now().Add(time.Hour), UserID: "42"}); err != nil {
		b.Fatal(err)
	}
	return s, k
}

// BenchmarkLoad is one request's read of a small session: one prepared
// SELECT and the decoding of its document.
func BenchmarkLoad(b *testing.B) {
	s, k := benchSession(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge is one request's change to a session: one UPDATE with
// JSON_MERGE_PATCH (Create false), or one INSERT ... ON DUPLICATE KEY
// UPDATE (Create true).
func BenchmarkMerge(b *testing.B) {
	for _, bc := range []struct {
		name   string
		extra  int
		create bool
	}{{"Update", 0, false}, {"Update/500keys", 500, false}, {"Create", 0, true}} {
		b.Run(bc.name, func(b *testing.B) {
			s, k := benchSession(b, bc.extra)
			ctx := context.Background()
			ch := &seshat.Change{
				Set:     map[string][]byte{"cart": []byte(`[{"sku":"A1","qty":3}]`)},
				Delete:  []string{"_flashes"},
				Expires: time.Now().Add(time.Hour),
				Create:  bc.create,
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Merge(ctx, k, ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMergeParallel: concurrent requests, each on its own session.
func BenchmarkMergeParallel(b *testing.B) {
	s := openStore(b, testDB(b), mysqlstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := newKey()
		if err := s.Merge(ctx, k, &seshat.Change{Set: benchValues(), Expires: exp, Create: true}); err != nil {
			b.Error(err)
			return
		}
		ch := &seshat.Change{Set: map[string][]byte{"n": []byte(`1`)}, Expires: exp}
		for pb.Next() {
			if err := s.Merge(ctx, k, ch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTake: Take of a value the session does not hold (one plain
// SELECT: what flash.Pop costs on most pages), and of one it holds, put
// back by a Merge in each iteration (so "present" is a Merge and a Take).
func BenchmarkTake(b *testing.B) {
	storetest.BenchTake(b, func(b *testing.B, extra int) (seshat.Store, string) { return benchSession(b, extra) })
}
