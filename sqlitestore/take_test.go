package sqlitestore

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// TestTakeAcrossStores: two Stores on one file stand for two processes,
// each with its own writer connection; of 16 concurrent Takes through both,
// exactly one gets the value (BEGIN IMMEDIATE on the writers), and a Merge
// of another key meanwhile persists.
func TestTakeAcrossStores(t *testing.T) {
	stores := twoStores(t, filepath.Join(t.TempDir(), "take.db"))
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for round := range 10 {
		k := storetest.Key()
		if err := stores[0].Save(ctx, k, &seshat.Record{Values: vals("_flashes", `[1]`, "user", `"alice"`), Expires: exp, UserID: "u"}); err != nil {
			t.Fatal(err)
		}
		var (
			got atomic.Int32
			wg  sync.WaitGroup
		)
		for g := range 16 {
			wg.Go(func() {
				v, ok, err := stores[g%2].Take(ctx, k, "_flashes")
				if err != nil {
					t.Error(err)
				}
				if ok {
					got.Add(1)
					if string(v) != `[1]` {
						t.Errorf("took %s", v)
					}
				}
			})
		}
		wg.Go(func() {
			if err := stores[1].Merge(ctx, k, &seshat.Change{Set: vals("n", "1"), Expires: exp}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if n := got.Load(); n != 1 {
			t.Fatalf("round %d: %d Takes got the value", round, n)
		}
		rec, err := stores[0].Load(ctx, k)
		if err != nil || !equalValues(rec.Values, vals("user", `"alice"`, "n", "1")) || rec.UserID != "u" {
			t.Fatalf("round %d: after the takes: %v, %v", round, rec, err)
		}
	}
}

// TestTakeExact: the taken value is the stored text byte for byte, the
// last value may be taken (leaving an empty record), and a value that is
// not a JSON string in the data column is ErrCorruptRecord.
func TestTakeExact(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := t.Context()
	k := storetest.Key()
	const v = `{" t":["x","a\"b\\c\u2028\ud800 NaN"]}`
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a.b[0]\"$", v), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Take(ctx, k, "a.b[0]\"$")
	if err != nil || !ok || string(got) != v {
		t.Fatalf("Take = %s, %v, %v; want %s", got, ok, err, v)
	}
	if rec, err := s.Load(ctx, k); err != nil || len(rec.Values) != 0 {
		t.Fatalf("after taking the last value: %v, %v", rec, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO seshat_sessions VALUES ('bad', '{"a":1}', '', ?)`, time.Now().Add(time.Hour).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	_, ok, err = s.Take(ctx, "bad", "a")
	if !errors.Is(err, ErrCorruptRecord) || errors.Is(err, seshat.ErrStoreUnavailable) || ok || !strings.HasPrefix(err.Error(), "sqlitestore: take: ") {
		t.Fatalf("Take of a non-string value: %v, %v", ok, err)
	}
}

// TestTakeClosed: a Take on a closed Store is an engine failure.
func TestTakeClosed(t *testing.T) {
	s := newTestStore(t, Options{})
	s.Close()
	if _, ok, err := s.Take(t.Context(), storetest.Key(), "a"); !errors.Is(err, seshat.ErrStoreUnavailable) || ok {
		t.Fatalf("Take on a closed store: %v, %v", ok, err)
	}
}
