package memstore_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seshat.Store {
		return memstore.New(memstore.Options{SweepInterval: 50 * time.Millisecond})
	})
}

// The values Load returns share one copy of the stored bytes and the keys
// share the stored string: a caller that writes into them, appends to them
// or changes the map must not change what the store holds, nor the other
// values of its own record. Nor may the records and changes a caller passes
// in and then reuses. Small records are copied into the Record's own
// allocation, larger ones beside it: both are checked.
func TestRecordsAreTheCallers(t *testing.T) {
	for _, size := range []int{0, 200} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testRecordsAreTheCallers(t, size) })
	}
}

func testRecordsAreTheCallers(t *testing.T, size int) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{SweepInterval: -1})
	defer s.Close()
	key := storetest.Key()
	want := map[string][]byte{"a": []byte(`"alpha"`), "b": []byte(`[1,2]`), "c": []byte(`"gamma"`)}
	if size > 0 {
		want["big"] = []byte(`"` + strings.Repeat("x", size) + `"`)
	}
	in := map[string][]byte{}
	for k, v := range want {
		in[k] = bytes.Clone(v)
	}
	rec := &seshat.Record{Values: in, Expires: time.Now().Add(time.Hour)}
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	clear(in["a"]) // the caller reuses what it saved
	ch := &seshat.Change{Set: map[string][]byte{"c": []byte(`"gamma"`)}, Expires: rec.Expires}
	if err := s.Merge(ctx, key, ch); err != nil {
		t.Fatal(err)
	}
	clear(ch.Set["c"])

	check := func(when string) {
		t.Helper()
		got, err := s.Load(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got.Values, want, bytes.Equal) {
			t.Fatalf("%s: stored values are %q, want %q", when, got.Values, want)
		}
	}
	check("after the caller reused its input")

	got, _ := s.Load(ctx, key)
	for _, v := range got.Values {
		for i := range v {
			v[i] = 'X'
		}
	}
	check("after the caller overwrote the loaded values")

	got, _ = s.Load(ctx, key)
	a := append(got.Values["a"], "-appended"...)
	if string(got.Values["b"]) != `[1,2]` || string(got.Values["c"]) != `"gamma"` {
		t.Fatalf("an append to one loaded value changed the others: %q", got.Values)
	}
	got.Values["a"], got.Values["d"] = a, []byte(`1`)
	delete(got.Values, "b")
	got.Expires, got.UserID = time.Time{}, "mallory"
	check("after the caller changed the loaded record")
}
