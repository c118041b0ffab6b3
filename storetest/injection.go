package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

// InjectionMarker is in every key, user id, value name and value that
// [InjectionShaped] sends, so a SQL store's test can check that no statement
// text it recorded carries one (checklist ST-05).
const InjectionMarker = "zq7marker"

// InjectionShaped drives every operation s implements (Save, Merge, Touch,
// Take, ListByUser, RevokeUser, Load, Delete, Iterate, DeleteExpired) with keys,
// user ids, value names and values shaped like SQL injection, each holding
// [InjectionMarker], and checks that they round-trip exactly and match
// nothing else. It leaves len(keys)-1 = 5 records.
func InjectionShaped(t *testing.T, s seshat.Store) {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const m = InjectionMarker
	keys := []string{
		"' OR '1'='1 " + m,
		"x\"; DROP TABLE t; -- " + m,
		"\\' \\" + m, // no NUL: PostgreSQL text cannot hold one (real keys are hex)
		"?1 ?2 $1 :a @b " + m,
		"k\u00e9\U0001F600" + m,
		strings.Repeat("a", 200) + m,
	}
	merged := `"'); DROP TABLE x; --` + m + `"`
	for i, k := range keys {
		user := fmt.Sprintf("u' OR 1=1 -- %s %d", m, i)
		rec := &seshat.Record{Values: map[string][]byte{"v": fmt.Appendf(nil, `"%s %d"`, m, i)}, Expires: exp, UserID: user}
		if err := s.Save(ctx, k, rec); err != nil {
			t.Fatalf("Save(%q): %v", k, err)
		}
		if mg, ok := s.(seshat.Merger); ok {
			ch := &seshat.Change{Set: map[string][]byte{"w'" + m: []byte(merged)}, Delete: []string{m}, Expires: exp}
			if err := mg.Merge(ctx, k, ch); err != nil {
				t.Fatalf("Merge(%q): %v", k, err)
			}
		}
		if tc, ok := s.(seshat.Toucher); ok {
			if err := tc.Touch(ctx, k, exp); err != nil {
				t.Fatalf("Touch(%q): %v", k, err)
			}
		}
		if ui, ok := s.(seshat.UserIndex); ok {
			if infos, err := ui.ListByUser(ctx, user); err != nil || len(infos) != 1 || infos[0].Key != k {
				t.Fatalf("ListByUser(%q) = %v, %v", user, infos, err)
			}
		}
	}
	for i, k := range keys {
		rec, err := s.Load(ctx, k)
		if err != nil {
			t.Fatalf("Load(%q): %v", k, err)
		}
		if got := string(rec.Values["v"]); got != fmt.Sprintf(`"%s %d"`, m, i) {
			t.Fatalf("%q: v = %s", k, got)
		}
		if _, ok := s.(seshat.Merger); ok && string(rec.Values["w'"+m]) != merged {
			t.Fatalf("%q: merged value = %s", k, rec.Values["w'"+m])
		}
		if tk, ok := s.(seshat.Taker); ok {
			name := "'; DELETE FROM t; -- $.x " + m
			if mg, ok := s.(seshat.Merger); ok {
				if err := mg.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{name: []byte(merged)}, Expires: exp}); err != nil {
					t.Fatalf("Merge(%q): %v", k, err)
				}
			}
			v, found, err := tk.Take(ctx, k, name)
			if _, merges := s.(seshat.Merger); err != nil || found != merges || (found && !sameJSON(v, []byte(merged))) {
				t.Fatalf("Take(%q, %q) = %s, %v, %v", k, name, v, found, err)
			}
		}
	}
	if _, err := s.Load(ctx, "' OR '1'='1"); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("an injection-shaped key matched a row: %v", err)
	}
	if ui, ok := s.(seshat.UserIndex); ok {
		if n, err := ui.RevokeUser(ctx, "' OR '1'='1"); err != nil || n != 0 {
			t.Fatalf("an injection-shaped user revoked %d rows: %v", n, err)
		}
	}
	if err := s.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if it, ok := s.(seshat.Iterator); ok {
		n := 0
		if err := it.Iterate(ctx, func(seshat.SessionInfo) error { n++; return nil }); err != nil || n != len(keys)-1 {
			t.Fatalf("Iterate saw %d records (%v), want %d", n, err, len(keys)-1)
		}
	}
	if c, ok := s.(seshat.Cleaner); ok {
		if n, err := c.DeleteExpired(ctx); err != nil || n != 0 {
			t.Fatalf("DeleteExpired removed %d live records: %v", n, err)
		}
	}
}

// NoMarker fails t when a recorded statement text holds
// [InjectionMarker]; fewer than min statements means the recording missed
// the traffic.
func NoMarker(t *testing.T, statements []string, min int) {
	t.Helper()
	if len(statements) < min {
		t.Fatalf("only %d statements recorded: %q", len(statements), statements)
	}
	for _, q := range statements {
		if strings.Contains(q, InjectionMarker) {
			t.Fatalf("a statement text carries caller data: %s", q)
		}
	}
}
