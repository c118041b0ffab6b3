// Package storetest is the conformance suite every seshat store must pass on
// its real engine. A store's own test calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) seshat.Store {
//			return mystore.New(...) // a fresh, empty namespace for each call
//		})
//	}
//
// The suite checks the [seshat.Store] contract and each optional capability
// the store implements ([seshat.Merger], [seshat.Toucher], [seshat.Taker],
// [seshat.UserIndex], [seshat.Iterator], [seshat.Cleaner]), then drives a
// real [seshat.Manager] over HTTP with the store: no lost updates under
// concurrency (50 clients × 20 requests on one session, each setting its own
// key, when the store is a Merger), renewal and destruction deleting the old
// record, and read-only traffic writing nothing.
//
// open must return a store over an empty namespace (a fresh key prefix,
// table or directory) and arrange its cleanup with t.Cleanup; Run closes the
// stores it opens.
package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) seshat.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s seshat.Store)
	}{
		{"LoadMissing", testLoadMissing},
		{"SaveLoad", testSaveLoad},
		{"SaveReplaces", testSaveReplaces},
		{"KeysAreSeparate", testKeysSeparate},
		{"Delete", testDelete},
		{"ExpiredIsInvisible", testExpired},
		{"ExpiresInTime", testExpiresInTime},
		{"Merge", testMerge},
		{"MergeNoResurrection", testMergeGone},
		{"MergeConcurrent", testMergeConcurrent},
		{"Touch", testTouch},
		{"Take", testTake},
		{"TakeConcurrent", testTakeConcurrent},
		{"UserIndex", testUserIndex},
		{"Iterate", testIterate},
		{"DeleteExpired", testDeleteExpired},
		{"ManagerLostUpdates", testManagerLostUpdates},
		{"ManagerRenewDestroy", testManagerRenewDestroy},
		{"ManagerReadOnlyWritesNothing", testManagerReadOnly},
		{"ManagerStrictIDs", testManagerStrictIDs},
		{"ManagerTakeOnce", testManagerTakeOnce},
		{"DetachedNoLostUpdates", testDetachedNoLostUpdates},
		{"DetachedAfterLogout", testDetachedAfterLogout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.fn(t, s)
		})
	}
}

// Key returns a fresh store key shaped like the ones seshat passes (the hex
// SHA-256 of a random id).
func Key() string {
	var b [32]byte
	rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

// sampleValues covers what a session value can be in tagged JSON: JSON
// null (which a merge must not confuse with "delete"), nesting, tags,
// non-ASCII escapes and a long string.
func sampleValues() map[string][]byte {
	long := make([]byte, 0, 3000)
	long = append(long, '"')
	for len(long) < 2999 {
		long = append(long, 'x')
	}
	long = append(long, '"')
	return map[string][]byte{
		"_permanent": []byte(`true`),
		"user":       []byte(`"alice"`),
		"nothing":    []byte(`null`),
		"cart":       []byte(`[1,2,{"sku":"A1","qty":2}]`),
		"pair":       []byte(`{" t":["x",1]}`),
		"name":       []byte(`"caf\u00e9 \ud83d\ude00"`),
		"long":       long,
		"weird key \u00e9 \"quoted\" 'single' .dots. $dollar": []byte(`0`),
	}
}

func mustSave(t *testing.T, s seshat.Store, key string, rec *seshat.Record) {
	t.Helper()
	if err := s.Save(t.Context(), key, rec); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func mustLoad(t *testing.T, s seshat.Store, key string) *seshat.Record {
	t.Helper()
	rec, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if rec == nil {
		t.Fatal("Load returned nil record and nil error")
	}
	return rec
}

func wantNoRecord(t *testing.T, s seshat.Store, key, why string) {
	t.Helper()
	rec, err := s.Load(t.Context(), key)
	if !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("%s: Load = %v, %v; want ErrNoRecord", why, rec, err)
	}
}

// sameJSON compares two tagged-JSON encodings of one value. Stores may keep
// JSON in an engine that reformats it (jsonb), so the comparison is
// semantic, not byte-wise: both are decoded and re-encoded in Flask's
// canonical form.
func sameJSON(a, b []byte) bool {
	x, err1 := taggedjson.Unmarshal(a)
	y, err2 := taggedjson.Unmarshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	cx, err1 := taggedjson.Marshal(x)
	cy, err2 := taggedjson.Marshal(y)
	return err1 == nil && err2 == nil && string(cx) == string(cy)
}

func checkValues(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values %v, want %d %v", len(got), keys(got), len(want), keys(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("value %q missing", k)
		}
		if !sameJSON(g, w) {
			t.Fatalf("value %q = %s, want %s", k, g, w)
		}
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d < 1500*time.Millisecond && d > -1500*time.Millisecond
}

func testLoadMissing(t *testing.T, s seshat.Store) {
	wantNoRecord(t, s, Key(), "never saved")
}

func testSaveLoad(t *testing.T, s seshat.Store) {
	k := Key()
	exp := time.Now().Add(time.Hour)
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "u-1"})
	rec := mustLoad(t, s, k)
	checkValues(t, rec.Values, sampleValues())
	if rec.UserID != "u-1" {
		t.Fatalf("UserID %q", rec.UserID)
	}
	if !near(rec.Expires, exp) {
		t.Fatalf("Expires %v, want about %v", rec.Expires, exp)
	}
}

func testSaveReplaces(t *testing.T, s seshat.Store) {
	k := Key()
	exp := time.Now().Add(time.Hour)
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "u-1"})
	repl := map[string][]byte{"only": []byte(`1`)}
	mustSave(t, s, k, &seshat.Record{Values: repl, Expires: exp})
	rec := mustLoad(t, s, k)
	checkValues(t, rec.Values, repl)
	if rec.UserID != "" {
		t.Fatalf("Save must replace the owner too, got %q", rec.UserID)
	}
}

func testKeysSeparate(t *testing.T, s seshat.Store) {
	exp := time.Now().Add(time.Hour)
	k1, k2 := Key(), Key()
	mustSave(t, s, k1, &seshat.Record{Values: map[string][]byte{"v": []byte(`1`)}, Expires: exp})
	mustSave(t, s, k2, &seshat.Record{Values: map[string][]byte{"v": []byte(`2`)}, Expires: exp})
	if got := mustLoad(t, s, k1).Values["v"]; string(got) != "1" {
		t.Fatalf("k1 = %s", got)
	}
	if got := mustLoad(t, s, k2).Values["v"]; string(got) != "2" {
		t.Fatalf("k2 = %s", got)
	}
}

func testDelete(t *testing.T, s seshat.Store) {
	k := Key()
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(time.Hour), UserID: "u-del"})
	if err := s.Delete(t.Context(), k); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNoRecord(t, s, k, "after Delete")
	if err := s.Delete(t.Context(), k); err != nil {
		t.Fatalf("Delete of a missing record: %v", err)
	}
	if ui, ok := s.(seshat.UserIndex); ok {
		infos, err := ui.ListByUser(t.Context(), "u-del")
		if err != nil || len(infos) != 0 {
			t.Fatalf("user index after Delete: %v %v (ST-06)", infos, err)
		}
	}
}

func testExpired(t *testing.T, s seshat.Store) {
	k := Key()
	err := s.Save(t.Context(), k, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(-time.Second)})
	if err != nil {
		t.Logf("Save of an already expired record refused: %v", err)
	}
	wantNoRecord(t, s, k, "expired record, no cleanup ran (ST-02)")
}

func testExpiresInTime(t *testing.T, s seshat.Store) {
	k := Key()
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(1200 * time.Millisecond)})
	mustLoad(t, s, k)
	time.Sleep(2200 * time.Millisecond)
	wantNoRecord(t, s, k, "record past its expiry")
}

func merger(t *testing.T, s seshat.Store) seshat.Merger {
	m, ok := s.(seshat.Merger)
	if !ok {
		t.Skip("store is not a seshat.Merger: the manager saves whole records and the last writer wins")
	}
	return m
}

func testMerge(t *testing.T, s seshat.Store) {
	m := merger(t, s)
	k := Key()
	exp := time.Now().Add(time.Hour)
	err := m.Merge(t.Context(), k, &seshat.Change{Set: sampleValues(), Expires: exp, Create: true, UserID: "u-m", SetUser: true})
	if err != nil {
		t.Fatalf("Merge(Create): %v", err)
	}
	rec := mustLoad(t, s, k)
	checkValues(t, rec.Values, sampleValues())
	if rec.UserID != "u-m" {
		t.Fatalf("owner %q", rec.UserID)
	}
	exp2 := time.Now().Add(2 * time.Hour)
	err = m.Merge(t.Context(), k, &seshat.Change{
		Set:     map[string][]byte{"user": []byte(`"bob"`), "new": []byte(`null`)},
		Delete:  []string{"cart", "not-there"},
		Expires: exp2,
	})
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	want := sampleValues()
	delete(want, "cart")
	want["user"] = []byte(`"bob"`)
	want["new"] = []byte(`null`)
	rec = mustLoad(t, s, k)
	checkValues(t, rec.Values, want)
	if rec.UserID != "u-m" {
		t.Fatalf("a Merge without SetUser changed the owner to %q", rec.UserID)
	}
	if !near(rec.Expires, exp2) {
		t.Fatalf("Expires %v, want about %v", rec.Expires, exp2)
	}
	// Create on an existing record merges into it.
	if err := m.Merge(t.Context(), k, &seshat.Change{Set: map[string][]byte{"x": []byte(`1`)}, Expires: exp2, Create: true}); err != nil {
		t.Fatalf("Merge(Create) over an existing record: %v", err)
	}
	if got := mustLoad(t, s, k).Values; len(got) != len(want)+1 {
		t.Fatalf("Create over an existing record lost values: %v", keys(got))
	}
	// Clearing the owner.
	if err := m.Merge(t.Context(), k, &seshat.Change{Expires: exp2, SetUser: true}); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, k).UserID; got != "" {
		t.Fatalf("owner not cleared: %q", got)
	}
}

func testMergeGone(t *testing.T, s seshat.Store) {
	m := merger(t, s)
	k := Key()
	exp := time.Now().Add(time.Hour)
	if err := m.Merge(t.Context(), k, &seshat.Change{Set: map[string][]byte{"a": []byte(`1`)}, Expires: exp}); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge without Create on a missing record: %v, want ErrSessionGone", err)
	}
	wantNoRecord(t, s, k, "a refused merge must not create the record")
	mustSave(t, s, k, &seshat.Record{Values: map[string][]byte{"a": []byte(`1`)}, Expires: exp})
	if err := s.Delete(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	// Request A loaded the session, request B logged out, now A saves.
	if err := m.Merge(t.Context(), k, &seshat.Change{Set: map[string][]byte{"b": []byte(`2`)}, Expires: exp}); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge after Delete: %v, want ErrSessionGone (no resurrection)", err)
	}
	wantNoRecord(t, s, k, "after a merge that met a deleted session")
}

func testMergeConcurrent(t *testing.T, s seshat.Store) {
	m := merger(t, s)
	k := Key()
	exp := time.Now().Add(time.Hour)
	mustSave(t, s, k, &seshat.Record{Values: map[string][]byte{"base": []byte(`0`)}, Expires: exp})
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				key := fmt.Sprintf("g%02d-%02d", g, i)
				err := m.Merge(t.Context(), k, &seshat.Change{Set: map[string][]byte{key: []byte(fmt.Sprint(i))}, Expires: exp})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Merge: %v", err)
	}
	if n := len(mustLoad(t, s, k).Values); n != 1001 {
		t.Fatalf("%d values after 1000 concurrent merges of distinct keys, want 1001 (lost updates)", n)
	}
}

func testTouch(t *testing.T, s seshat.Store) {
	tc, ok := s.(seshat.Toucher)
	if !ok {
		t.Skip("store is not a seshat.Toucher")
	}
	k := Key()
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(time.Minute)})
	later := time.Now().Add(3 * time.Hour)
	if err := tc.Touch(t.Context(), k, later); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	rec := mustLoad(t, s, k)
	if !near(rec.Expires, later) {
		t.Fatalf("Expires %v after Touch, want about %v", rec.Expires, later)
	}
	checkValues(t, rec.Values, sampleValues())
	if err := tc.Touch(t.Context(), k, time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("Touch into the past: %v", err)
	}
	wantNoRecord(t, s, k, "touched into the past")
	if err := tc.Touch(t.Context(), Key(), later); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Touch of a missing record: %v, want ErrNoRecord", err)
	}
}

func testUserIndex(t *testing.T, s seshat.Store) {
	ui, ok := s.(seshat.UserIndex)
	if !ok {
		t.Skip("store is not a seshat.UserIndex")
	}
	exp := time.Now().Add(time.Hour)
	var mine []string
	for range 3 {
		k := Key()
		mine = append(mine, k)
		mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "user-1"})
	}
	other := Key()
	mustSave(t, s, other, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "user-2"})
	if m, ok := s.(seshat.Merger); ok {
		// An owner set by a Merge is indexed too.
		k := Key()
		if err := m.Merge(t.Context(), k, &seshat.Change{Set: sampleValues(), Expires: exp, Create: true, UserID: "user-1", SetUser: true}); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, k)
	}
	infos, err := ui.ListByUser(t.Context(), "user-1")
	if err != nil {
		t.Fatalf("ListByUser: %v", err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, in.Key)
		if in.UserID != "user-1" || !near(in.Expires, exp) {
			t.Fatalf("info %+v", in)
		}
	}
	sort.Strings(got)
	sort.Strings(mine)
	if fmt.Sprint(got) != fmt.Sprint(mine) {
		t.Fatalf("ListByUser = %v, want %v", got, mine)
	}
	n, err := ui.RevokeUser(t.Context(), "user-1")
	if err != nil || n != len(mine) {
		t.Fatalf("RevokeUser = %d, %v; want %d", n, err, len(mine))
	}
	for _, k := range mine {
		wantNoRecord(t, s, k, "revoked")
	}
	mustLoad(t, s, other)
	if infos, err := ui.ListByUser(t.Context(), "user-1"); err != nil || len(infos) != 0 {
		t.Fatalf("after RevokeUser: %v %v", infos, err)
	}
	if n, err := ui.RevokeUser(t.Context(), "nobody"); err != nil || n != 0 {
		t.Fatalf("RevokeUser(nobody) = %d, %v", n, err)
	}
}

func testIterate(t *testing.T, s seshat.Store) {
	it, ok := s.(seshat.Iterator)
	if !ok {
		t.Skip("store is not a seshat.Iterator")
	}
	exp := time.Now().Add(time.Hour)
	want := map[string]bool{}
	for range 5 {
		k := Key()
		want[k] = true
		mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "it"})
	}
	s.Save(t.Context(), Key(), &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(-time.Second)})
	seen := map[string]bool{}
	err := it.Iterate(t.Context(), func(in seshat.SessionInfo) error {
		if seen[in.Key] {
			return fmt.Errorf("key %s seen twice", in.Key)
		}
		seen[in.Key] = true
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	if len(seen) != len(want) {
		t.Fatalf("Iterate saw %d sessions, want %d live ones", len(seen), len(want))
	}
	for k := range want {
		if !seen[k] {
			t.Fatalf("Iterate missed %s", k)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := it.Iterate(t.Context(), func(seshat.SessionInfo) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Iterate must stop at the first error: %v after %d calls", err, calls)
	}
}

func testDeleteExpired(t *testing.T, s seshat.Store) {
	c, ok := s.(seshat.Cleaner)
	if !ok {
		t.Skip("store is not a seshat.Cleaner")
	}
	live := Key()
	mustSave(t, s, live, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(time.Hour)})
	for range 3 {
		s.Save(t.Context(), Key(), &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(-time.Minute)})
	}
	if _, err := c.DeleteExpired(t.Context()); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	mustLoad(t, s, live)
	if n, err := c.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Fatalf("second DeleteExpired = %d, %v; want 0", n, err)
	}
}
