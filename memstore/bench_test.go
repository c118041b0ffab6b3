package memstore_test

import (
	"context"
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
