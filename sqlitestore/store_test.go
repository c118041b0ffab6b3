package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// clock is a settable clock for Options.Now.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time               { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration)          { c.ns.Add(int64(d)) }
func (c *clock) In(d time.Duration) time.Time { return c.Now().Add(d) }

func vals(kv ...string) map[string][]byte {
	m := make(map[string][]byte, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func equalValues(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || string(v) != string(w) {
			return false
		}
	}
	return true
}

func rowCount(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.w.QueryRow("SELECT count(*) FROM " + DefaultTable).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTableNameValidation(t *testing.T) {
	for _, name := range []string{"seshat_sessions", "S", "_x", "a1", strings.Repeat("a", MaxTableNameLen)} {
		if ddl, err := DDL(name); err != nil || len(ddl) != 3 || !strings.Contains(ddl[0], `"`+name+`"`) {
			t.Errorf("DDL(%q) = %v, %v; want accepted", name, ddl, err)
		}
	}
	bad := []string{"", "main.sessions", "1abc", "a-b", "a b", `a"b`, "a;drop table x", "a'b", "tablé", "a\x00b",
		strings.Repeat("a", MaxTableNameLen+1)}
	for _, name := range bad {
		if name == "" {
			continue // DDL("") means the default
		}
		if _, err := DDL(name); err == nil {
			t.Errorf("DDL(%q) accepted an invalid table name", name)
		}
		if s, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{Table: name}); err == nil {
			s.Close()
			t.Errorf("Open(Table: %q) accepted an invalid table name", name)
		}
	}
	for _, path := range []string{"", "a.db?mode=ro"} {
		if s, err := Open(t.Context(), path, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) accepted", path)
		}
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{CleanupInterval: -1}); err == nil {
		t.Error("negative CleanupInterval accepted")
	}
}

func TestOpenTwiceAndWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a, err := Open(t.Context(), path, Options{Table: "Sess"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), path, Options{Table: "Sess"})
	if err != nil {
		t.Fatalf("second Open of the same table (idempotent DDL): %v", err)
	}
	defer b.Close()
	var mode string
	if err := a.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	var busy int
	if err := a.r.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 5000 {
		t.Fatalf("busy_timeout %d %v", busy, err)
	}
	if _, err := a.r.Exec("DELETE FROM Sess"); err == nil {
		t.Fatal("the read pool can write")
	}
	if err := a.Save(t.Context(), "k", &seshat.Record{Values: vals("a", "1"), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if rec, err := b.Load(t.Context(), "k"); err != nil || string(rec.Values["a"]) != "1" {
		t.Fatalf("the other store does not see the row: %v %v", rec, err)
	}
}

func TestExactValues(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := t.Context()
	in := vals(
		"nan", `NaN`, "inf", `[Infinity,-Infinity]`, "exp", `1e+16`, "negzero", `-0.0`,
		"nul", `"a\u0000b"`, "surrogate", `"\ud800"`, "big", `123456789012345678901234567890`,
		"null", `null`, "esc", `"\"\\\/\b\f\n\r\t"`, "raw utf8 é", `"é"`, "ctl\x01key", `1`,
		`"quoted" $.path[0]`, `2`,
	)
	k := storetest.Key()
	if err := s.Save(ctx, k, &seshat.Record{Values: in, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if !equalValues(rec.Values, in) {
		t.Fatalf("round trip changed the values:\n got %q\nwant %q", rec.Values, in)
	}
	err = s.Merge(ctx, k, &seshat.Change{Set: vals("nan", `-Infinity`, "x", `1e-05`, `"quoted" $.path[0]`, `3`),
		Delete: []string{"inf", "ctl\x01key"}, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err = s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	in["nan"], in["x"], in[`"quoted" $.path[0]`] = []byte(`-Infinity`), []byte(`1e-05`), []byte(`3`)
	delete(in, "inf")
	delete(in, "ctl\x01key")
	if !equalValues(rec.Values, in) {
		t.Fatalf("merge changed the values:\n got %q\nwant %q", rec.Values, in)
	}
}

func TestJSONNullSurvivesMerge(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := t.Context()
	k := storetest.Key()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", `null`, "b", `1`), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		ch   seshat.Change
		want map[string][]byte
	}{
		{seshat.Change{Set: vals("c", `null`)}, vals("a", `null`, "b", `1`, "c", `null`)},
		{seshat.Change{Set: vals("b", `null`)}, vals("a", `null`, "b", `null`, "c", `null`)},
		{seshat.Change{Set: vals("a", `{"x":null}`), Delete: []string{"c"}}, vals("a", `{"x":null}`, "b", `null`)},
		{seshat.Change{Set: vals("a", `[null]`)}, vals("a", `[null]`, "b", `null`)},
		{seshat.Change{Set: vals("d", `null`), Create: true}, vals("a", `[null]`, "b", `null`, "d", `null`)},
	}
	for i, st := range steps {
		st.ch.Expires = exp
		if err := s.Merge(ctx, k, &st.ch); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		rec, err := s.Load(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if !equalValues(rec.Values, st.want) {
			t.Fatalf("step %d: got %q, want %q", i, rec.Values, st.want)
		}
	}
}

func TestExpiryBranches(t *testing.T) {
	c := newClock()
	s := newTestStore(t, Options{Now: c.Now})
	ctx := t.Context()
	k := storetest.Key()
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: c.In(time.Minute), UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, k); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute) // expires_at == now: expired
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load of an expired row: %v", err)
	}
	if err := s.Touch(ctx, k, c.In(time.Hour)); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Touch of an expired row: %v", err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("b", "2"), Expires: c.In(time.Hour)}); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge of an expired row: %v", err)
	}
	if infos, err := s.ListByUser(ctx, "u"); err != nil || len(infos) != 0 {
		t.Fatalf("ListByUser lists an expired row: %v %v", infos, err)
	}
	n := 0
	if err := s.Iterate(ctx, func(seshat.SessionInfo) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("Iterate sees %d expired rows (%v)", n, err)
	}
	if got := rowCount(t, s); got != 1 {
		t.Fatalf("%d rows; the expired row should still be there", got)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("b", "2"), Expires: c.In(time.Hour), Create: true}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if !equalValues(rec.Values, vals("b", "2")) || rec.UserID != "" {
		t.Fatalf("Create over an expired row kept old state: %q owner %q", rec.Values, rec.UserID)
	}
	for i, d := range []time.Duration{time.Hour, time.Hour, -time.Hour} {
		if err := s.Save(ctx, fmt.Sprint("r", i), &seshat.Record{Values: vals("a", "1"), Expires: c.In(d), UserID: "rev"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RevokeUser(ctx, "rev"); n != 2 || err != nil {
		t.Fatalf("RevokeUser = %d, %v; want 2 live", n, err)
	}
	if got := rowCount(t, s); got != 1 {
		t.Fatalf("%d rows after RevokeUser, want 1", got)
	}
	if err := s.Save(ctx, "anon", &seshat.Record{Values: vals("a", "1"), Expires: c.In(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.ListByUser(ctx, ""); err != nil || len(infos) != 0 {
		t.Fatalf("ListByUser(\"\") = %v, %v", infos, err)
	}
	if n, err := s.RevokeUser(ctx, ""); err != nil || n != 0 || rowCount(t, s) != 2 {
		t.Fatalf("RevokeUser(\"\") = %d, %v", n, err)
	}
	// Expiry keeps microseconds.
	exp := time.Date(2100, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if err := s.Save(ctx, "precise", &seshat.Record{Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load(ctx, "precise"); err != nil || !rec.Expires.Equal(exp.Truncate(time.Microsecond)) {
		t.Fatalf("Expires %v, want %v (%v)", rec.Expires, exp, err)
	}
}

func TestCleanupGoroutine(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: 20 * time.Millisecond})
	ctx := t.Context()
	for i := range 5 {
		if err := s.Save(ctx, fmt.Sprint("old", i), &seshat.Record{Expires: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(ctx, "live", &seshat.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rowCount(t, s) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the cleaner left %d rows after 5 s", rowCount(t, s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := s.done
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("Close returned before the cleaner stopped")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Load(ctx, "live"); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Load after Close: %v, want ErrStoreUnavailable", err)
	}
}

func TestBatches(t *testing.T) {
	s := newTestStore(t, Options{MaxReaders: 1})
	ctx := t.Context()
	_, err := s.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO seshat_sessions (key, data, user_id, expires_at)
SELECT printf('live%05d', i), '{"a":"1"}', 'u' || (i % 7), ?2 FROM n WHERE i <= 2500
UNION ALL SELECT 'dead' || i, '{}', '', ?3 FROM n WHERE i <= ?4`, 2500, time.Now().Add(time.Hour).UnixMicro(), time.Now().Add(-time.Hour).UnixMicro(), deleteBatch*2+5)
	if err != nil {
		t.Fatal(err)
	}
	seen, deleted := 0, 0
	prev := ""
	err = s.Iterate(ctx, func(in seshat.SessionInfo) error {
		if in.Key <= prev {
			return fmt.Errorf("order: %s after %s", in.Key, prev)
		}
		prev = in.Key
		seen++
		if seen%100 == 0 {
			deleted++
			return s.Delete(ctx, in.Key)
		}
		return nil
	})
	if err != nil || seen != 2500 {
		t.Fatalf("Iterate saw %d (%v), want 2500", seen, err)
	}
	n, err := s.DeleteExpired(ctx)
	if err != nil || n != deleteBatch*2+5 {
		t.Fatalf("DeleteExpired = %d, %v; want %d", n, err, deleteBatch*2+5)
	}
	if got := rowCount(t, s); got != 2500-deleted {
		t.Fatalf("%d rows left, want %d", got, 2500-deleted)
	}
	if infos, err := s.ListByUser(ctx, "u3"); err != nil || len(infos) < 300 {
		t.Fatalf("ListByUser(u3): %d, %v", len(infos), err)
	}
}

func TestCorruptRecord(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := t.Context()
	for i, data := range []string{`[1]`, `{"a":1}`, `{"a":null}`, `"x"`, `null`, `not json`} {
		k := fmt.Sprint("corrupt", i)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO seshat_sessions VALUES (?, ?, '', ?)`, k, data, time.Now().Add(time.Hour).UnixMicro()); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx, k)
		if !errors.Is(err, ErrCorruptRecord) || errors.Is(err, seshat.ErrNoRecord) || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("data %s: Load error %v, want ErrCorruptRecord only", data, err)
		}
		if !strings.HasPrefix(err.Error(), "sqlitestore: load: ") {
			t.Fatalf("error does not name the operation: %v", err)
		}
	}
}

func TestBadValues(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for _, v := range []map[string][]byte{vals("a\x00", "1"), vals("a", "\"\x00\""), vals("\xff", "1"), vals("a", "\"\xff\"")} {
		err := s.Save(ctx, "k", &seshat.Record{Values: v, Expires: exp})
		if err == nil || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Errorf("Save(%q) = %v, want a plain error", v, err)
		}
		err = s.Merge(ctx, "k", &seshat.Change{Set: v, Expires: exp, Create: true})
		if err == nil || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Errorf("Merge(%q) = %v, want a plain error", v, err)
		}
	}
	if err := s.Merge(ctx, "k", &seshat.Change{Delete: []string{"\xff"}, Expires: exp, Create: true}); err == nil {
		t.Error("Merge deleting an invalid key: no error")
	}
}

// TestUnavailable: a lock held by another connection beyond the busy
// timeout, and a context deadline while waiting for the writer, both give
// ErrStoreUnavailable naming the operation.
func TestUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(t.Context(), path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := t.Context()
	// Another "process" holds the write lock.
	tx, err := other.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Save(ctx, "k", &seshat.Record{Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, seshat.ErrStoreUnavailable) || !strings.HasPrefix(err.Error(), "sqlitestore: save: ") {
		t.Fatalf("Save against a held lock: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Save gave up after %v, want about the 50 ms busy timeout", d)
	}
	// Reads go on during the other writer's transaction (WAL).
	if _, err := s.Load(ctx, "k"); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load during another writer's transaction: %v", err)
	}
	tx.Rollback()

	// This process's writer busy: a deadline while queueing for it.
	conn, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	err = s.Touch(tctx, "k", time.Now())
	conn.Close()
	if !errors.Is(err, seshat.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Touch with the writer taken and a 30 ms deadline: %v", err)
	}
	if err := s.Save(ctx, "k", &seshat.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("after the lock went away: %v", err)
	}
}

// TestContention is T-11: 32 concurrent writers through two Stores on one
// file (two writer connections contending for SQLite's lock, as two
// processes would), on one shared session and on sessions of their own,
// with readers in between. No SQLITE_BUSY may surface, no write may be
// lost, and the file must pass PRAGMA integrity_check.
func TestContention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contention.db")
	stores := twoStores(t, path)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	shared := storetest.Key()
	if err := stores[0].Save(ctx, shared, &seshat.Record{Values: vals("base", "0"), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	const writers = 32
	rounds := 50
	if raceEnabled {
		rounds = 10
	}
	own := make([]string, writers)
	var (
		wg     sync.WaitGroup
		errs   = make(chan error, writers*rounds*3)
		writes atomic.Int64
	)
	start := time.Now()
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[g%2]
			own[g] = storetest.Key()
			if err := s.Save(ctx, own[g], &seshat.Record{Values: vals("owner", fmt.Sprint(g)), Expires: exp, UserID: fmt.Sprint("u", g)}); err != nil {
				errs <- err
				return
			}
			for i := range rounds {
				// Half the writers on the shared session, half on their own;
				// everyone reads too.
				key := shared
				if g >= writers/2 {
					key = own[g]
				}
				ch := &seshat.Change{Set: vals(fmt.Sprintf("g%02d-%02d", g, i), fmt.Sprint(i), "last", fmt.Sprint(g)), Expires: exp}
				if err := s.Merge(ctx, key, ch); err != nil {
					errs <- err
					return
				}
				writes.Add(1)
				if i%5 == 0 {
					if err := s.Touch(ctx, own[g], exp); err != nil {
						errs <- err
						return
					}
				}
				if _, err := s.Load(ctx, key); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatalf("under contention: %v", err)
	}
	rec, err := stores[1].Load(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Values); n != 2+writers/2*rounds {
		t.Fatalf("shared session has %d values, want %d (lost writes)", n, 2+writers/2*rounds)
	}
	for g := writers / 2; g < writers; g++ {
		rec, err := stores[0].Load(ctx, own[g])
		if err != nil {
			t.Fatal(err)
		}
		if n := len(rec.Values); n != 2+rounds || string(rec.Values["owner"]) != fmt.Sprint(g) {
			t.Fatalf("session of writer %d: %d values, owner %s", g, n, rec.Values["owner"])
		}
	}
	var check string
	if err := stores[0].w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	t.Logf("%d merges (plus %d saves, %d touches, %d loads) by %d writers on 2 stores in %v: no error, no lost write, integrity_check ok",
		writes.Load(), writers, writers*rounds/5, writers*rounds, writers, elapsed.Round(time.Millisecond))
}

// TestDocDDL keeps the DDL in the package documentation equal to what Open
// runs.
func TestDocDDL(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	text := squash(strings.ReplaceAll(string(doc), "//", ""))
	ddl, _ := DDL("")
	for _, stmt := range ddl {
		if !strings.Contains(text, squash(stmt)+";") {
			t.Errorf("doc.go does not show the statement Open runs:\n%s", stmt)
		}
	}
}
