package pgstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
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

func rowCount(t *testing.T, pool *pgxpool.Pool, s *Store) int {
	t.Helper()
	var n int
	table := strings.TrimPrefix(strings.SplitN(s.q.check, " FROM ", 2)[1], "")
	table = strings.TrimSuffix(table, " LIMIT 0")
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTableNameValidation(t *testing.T) {
	good := []string{"seshat_sessions", "S", "_x", "a1", "auth.sessions", strings.Repeat("a", MaxTableNameLen)}
	for _, name := range good {
		ddl, err := DDL(name)
		if err != nil || len(ddl) != 3 {
			t.Errorf("DDL(%q) = %v, %v; want accepted", name, ddl, err)
		}
	}
	bad := []string{
		".", "a.", ".a", "a.b.c", "1abc", "a-b", "a b", `a"b`, "a;drop table x", "a'b",
		"tablé", "a\x00b", strings.Repeat("a", MaxTableNameLen+1), "public." + strings.Repeat("a", MaxTableNameLen+1),
	}
	for _, name := range bad {
		if _, err := DDL(name); err == nil {
			t.Errorf("DDL(%q) accepted an invalid table name", name)
		}
		if _, err := New(context.Background(), new(pgxpool.Pool), Options{Table: name}); err == nil {
			t.Errorf("New(Table: %q) accepted an invalid table name", name)
		}
	}
	ddl, _ := DDL("")
	if !strings.Contains(ddl[0], `"seshat_sessions"`) {
		t.Errorf("default DDL: %s", ddl[0])
	}
	ddl, _ = DDL("auth.Sess")
	if !strings.Contains(ddl[0], `"auth"."Sess"`) || !strings.Contains(ddl[1], `"Sess_user_id_idx" ON "auth"."Sess"`) {
		t.Errorf("qualified DDL: %q", ddl)
	}
	if _, err := New(context.Background(), nil, Options{}); err == nil {
		t.Error("New accepted a nil pool")
	}
}

func TestSchemaQualifiedAndIdempotent(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	ctx := t.Context()
	schema := tempTable(t, pool) // a fresh name, used for a schema
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	table := schema + ".Sessions"
	// Ten stores start at once on a table that does not exist yet.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(ctx, pool, Options{Table: table})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent New: %v", err)
		}
	}
	s, err := New(ctx, pool, Options{Table: table, NoCreateTable: true})
	if err != nil {
		t.Fatalf("NoCreateTable on an existing table: %v", err)
	}
	defer s.Close()
	k := storetest.Key()
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+schema+`."Sessions" WHERE key = $1`, k).Scan(&n); err != nil || n != 1 {
		t.Fatalf("row not in %s: %d %v", table, n, err)
	}
	if _, err := New(ctx, pool, Options{Table: schema + ".missing", NoCreateTable: true}); err == nil {
		t.Fatal("NoCreateTable on a missing table: no error")
	}
}

func TestExactValues(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{})
	ctx := t.Context()
	// Values jsonb could not keep as they are: they must come back byte for
	// byte.
	in := vals(
		"nan", `NaN`, "inf", `[Infinity,-Infinity]`, "exp", `1e+16`, "negzero", `-0.0`,
		"nul", `"a\u0000b"`, "surrogate", `"\ud800"`, "big", `123456789012345678901234567890`,
		"null", `null`, "esc", `"\"\\\/\b\f\n\r\t"`, "raw utf8 é", `"é"`, "ctl\x01key", `1`,
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
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("nan", `-Infinity`, "x", `1e-05`), Delete: []string{"inf"}, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rec, err = s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	in["nan"], in["x"] = []byte(`-Infinity`), []byte(`1e-05`)
	delete(in, "inf")
	if !equalValues(rec.Values, in) {
		t.Fatalf("merge changed the values:\n got %q\nwant %q", rec.Values, in)
	}
	// Take hands each value back byte for byte, names included.
	for name, want := range in {
		v, ok, err := s.Take(ctx, k, name)
		if err != nil || !ok || string(v) != string(want) {
			t.Fatalf("Take(%q) = %q, %v, %v; want %q", name, v, ok, err, want)
		}
	}
	if rec, err := s.Load(ctx, k); err != nil || len(rec.Values) != 0 {
		t.Fatalf("after taking every value: %+v, %v", rec, err)
	}
}

// TestTakeWithConcurrentMerges: takes racing with merges into the same row
// neither lose a merged key nor bring a taken value back, and each value is
// taken exactly once.
func TestTakeWithConcurrentMerges(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", func(c *pgxpool.Config) { c.MaxConns = 8 })
	s := newTestStore(t, pool, Options{})
	ctx := t.Context()
	k := storetest.Key()
	exp := time.Now().Add(time.Hour)
	const n = 8
	init := vals("keep", `1`)
	for i := range n {
		init[fmt.Sprint("t", i)] = []byte(fmt.Sprint(i))
	}
	if err := s.Save(ctx, k, &seshat.Record{Values: init, Expires: exp, UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	var taken [n]atomic.Int32
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n {
				v, ok, err := s.Take(ctx, k, fmt.Sprint("t", i))
				if err != nil {
					t.Error(err)
				}
				if ok {
					if string(v) != fmt.Sprint(i) {
						t.Errorf("t%d = %q", i, v)
					}
					taken[i].Add(1)
				}
			}
		})
		wg.Go(func() {
			for i := range n {
				ch := &seshat.Change{Set: vals(fmt.Sprint("m", g, "_", i), `true`), Expires: exp}
				if err := s.Merge(ctx, k, ch); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		if got := taken[i].Load(); got != 1 {
			t.Errorf("t%d taken %d times, want once", i, got)
		}
	}
	rec, err := s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Values) != 1+4*n || string(rec.Values["keep"]) != "1" || rec.UserID != "u" {
		t.Fatalf("after the race: %d values %q, owner %q; want keep and the %d merged keys", len(rec.Values), rec.Values, rec.UserID, 4*n)
	}
}

// TestTakeMissingDoesNotWait: a take of a value the row does not hold
// neither locks the row nor waits for a lock another transaction holds.
func TestTakeMissingDoesNotWait(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{})
	ctx := t.Context()
	k := storetest.Key()
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	table := strings.TrimSuffix(strings.SplitN(s.q.check, " FROM ", 2)[1], " LIMIT 0")
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+table+" WHERE key = $1 FOR UPDATE", k); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if v, ok, err := s.Take(tctx, k, "b"); ok || err != nil {
		t.Fatalf("Take of a missing value next to a locked row = %q, %v, %v; want nothing, at once", v, ok, err)
	}
}

func TestJSONNullSurvivesMerge(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{})
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
	pool := testPool(t, "seshat-pgstore-test", nil)
	c := newClock()
	s := newTestStore(t, pool, Options{Now: c.Now})
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
	if v, ok, err := s.Take(ctx, k, "a"); ok || err != nil {
		t.Fatalf("Take from an expired row = %q, %v, %v; want nothing", v, ok, err)
	}
	if infos, err := s.ListByUser(ctx, "u"); err != nil || len(infos) != 0 {
		t.Fatalf("ListByUser lists an expired row: %v %v", infos, err)
	}
	n := 0
	if err := s.Iterate(ctx, func(seshat.SessionInfo) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("Iterate sees %d expired rows (%v)", n, err)
	}
	if got := rowCount(t, pool, s); got != 1 {
		t.Fatalf("%d rows; the expired row should still be there, untouched", got)
	}
	// A Create on the expired row starts afresh: old values and owner gone.
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
	// RevokeUser deletes expired rows too but counts only live ones.
	for i, d := range []time.Duration{time.Hour, time.Hour, -time.Hour} {
		if err := s.Save(ctx, fmt.Sprint("r", i), &seshat.Record{Values: vals("a", "1"), Expires: c.In(d), UserID: "rev"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RevokeUser(ctx, "rev"); n != 2 || err != nil {
		t.Fatalf("RevokeUser = %d, %v; want 2 live", n, err)
	}
	if got := rowCount(t, pool, s); got != 1 {
		t.Fatalf("%d rows after RevokeUser, want 1", got)
	}
	// The empty owner is never listed nor revoked.
	if err := s.Save(ctx, "anon", &seshat.Record{Values: vals("a", "1"), Expires: c.In(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.ListByUser(ctx, ""); err != nil || len(infos) != 0 {
		t.Fatalf("ListByUser(\"\") = %v, %v", infos, err)
	}
	if n, err := s.RevokeUser(ctx, ""); err != nil || n != 0 || rowCount(t, pool, s) != 2 {
		t.Fatalf("RevokeUser(\"\") = %d, %v", n, err)
	}
}

func TestCleanupGoroutine(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{CleanupInterval: 20 * time.Millisecond})
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
	for rowCount(t, pool, s) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the cleaner left %d rows after 5 s", rowCount(t, pool, s))
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
	// After Close nothing cleans any more (the pool is still the caller's).
	// The record expires after Close returned but is past by the count: a
	// DELETE the cleaner sent just before Close may still run on the server
	// (cancelling the context does not recall it), but its cutoff is older.
	closed := time.Now()
	time.Sleep(10 * time.Millisecond)
	if err := s.Save(ctx, "old-after", &seshat.Record{Expires: closed.Add(5 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := rowCount(t, pool, s); n != 2 {
		t.Fatalf("%d rows 100 ms after Close; a cleaner is still running", n)
	}
	if _, err := New(ctx, pool, Options{CleanupInterval: -time.Second, Table: "x"}); err == nil {
		t.Fatal("negative CleanupInterval accepted")
	}
}

func TestBatches(t *testing.T) {
	// One connection: Iterate must not hold it while fn runs.
	pool := testPool(t, "seshat-pgstore-test", func(c *pgxpool.Config) { c.MaxConns = 1 })
	s := newTestStore(t, pool, Options{})
	ctx := t.Context()
	table := strings.TrimSuffix(strings.SplitN(s.q.check, " FROM ", 2)[1], " LIMIT 0")
	// 2500 live rows (three pages) and deleteBatch+5 expired ones.
	_, err := pool.Exec(ctx, `INSERT INTO `+table+` (key, data, user_id, expires_at)
SELECT 'live' || lpad(i::text, 5, '0'), '{"a":"1"}'::jsonb, 'u' || (i % 7), now() + interval '1 hour' FROM generate_series(1, 2500) i
UNION ALL
SELECT 'dead' || i, '{}'::jsonb, '', now() - interval '1 hour' FROM generate_series(1, $1::int) i`, deleteBatch+5)
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
	if err != nil || n != deleteBatch+5 {
		t.Fatalf("DeleteExpired = %d, %v; want %d", n, err, deleteBatch+5)
	}
	if got := rowCount(t, pool, s); got != 2500-deleted {
		t.Fatalf("%d rows left, want %d", got, 2500-deleted)
	}
	if infos, err := s.ListByUser(ctx, "u3"); err != nil || len(infos) < 300 {
		t.Fatalf("ListByUser(u3): %d, %v", len(infos), err)
	}
}

func TestCorruptRecord(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{})
	ctx := t.Context()
	table := strings.TrimSuffix(strings.SplitN(s.q.check, " FROM ", 2)[1], " LIMIT 0")
	for i, data := range []string{`[1]`, `{"a":1}`, `{"a":null}`, `"x"`, `null`} {
		k := fmt.Sprint("corrupt", i)
		if _, err := pool.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, $2, '', now() + interval '1 hour')`, k, data); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx, k)
		if !errors.Is(err, ErrCorruptRecord) || errors.Is(err, seshat.ErrNoRecord) || errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Fatalf("data %s: Load error %v, want ErrCorruptRecord only", data, err)
		}
		if !strings.Contains(err.Error(), "pgstore: load:") {
			t.Fatalf("error does not name the operation: %v", err)
		}
		// Take takes only the strings this package writes; the rest stays
		// for Load to report.
		if v, ok, err := s.Take(ctx, k, "a"); ok || err != nil {
			t.Fatalf("data %s: Take = %q, %v, %v; want nothing", data, v, ok, err)
		}
		var after string
		if err := pool.QueryRow(ctx, `SELECT data::text FROM `+table+` WHERE key = $1`, k).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(pgJSON(t, pool, data)); after != want {
			t.Fatalf("data %s: Take changed it to %s", want, after)
		}
	}
}

// pgJSON returns data as PostgreSQL prints it as jsonb.
func pgJSON(t *testing.T, pool *pgxpool.Pool, data string) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(t.Context(), `SELECT $1::jsonb::text`, data).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadValues(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-test", nil)
	s := newTestStore(t, pool, Options{})
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
	// A name no row can hold is simply not there.
	if err := s.Save(ctx, "k", &seshat.Record{Values: vals("a", "1"), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a\x00", "\xff"} {
		if v, ok, err := s.Take(ctx, "k", name); ok || err != nil {
			t.Errorf("Take(%q) = %q, %v, %v; want nothing", name, v, ok, err)
		}
	}
}

func TestUnavailable(t *testing.T) {
	// A server that is not there: every operation fails with
	// ErrStoreUnavailable and names itself.
	port := testenv.FreePort(t)
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable&connect_timeout=2", port))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := &Store{pool: pool, now: time.Now}
	s.q, _ = buildQueries("t")
	ctx := t.Context()
	if _, err := New(ctx, pool, Options{}); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Errorf("New: %v", err)
	}
	checks := map[string]error{}
	_, checks["load"] = s.Load(ctx, "k")
	checks["save"] = s.Save(ctx, "k", &seshat.Record{Expires: time.Now()})
	checks["delete"] = s.Delete(ctx, "k")
	checks["merge"] = s.Merge(ctx, "k", &seshat.Change{})
	checks["touch"] = s.Touch(ctx, "k", time.Now())
	_, _, checks["take"] = s.Take(ctx, "k", "a")
	_, checks["list by user"] = s.ListByUser(ctx, "u")
	_, checks["revoke user"] = s.RevokeUser(ctx, "u")
	checks["iterate"] = s.Iterate(ctx, func(seshat.SessionInfo) error { return nil })
	_, checks["delete expired"] = s.DeleteExpired(ctx)
	for op, err := range checks {
		if !errors.Is(err, seshat.ErrStoreUnavailable) || !strings.HasPrefix(err.Error(), "pgstore: "+op+": ") {
			t.Errorf("%s: %v", op, err)
		}
	}

	// A deadline that expires during the statement.
	real := testPool(t, "seshat-pgstore-test", nil)
	rs := newTestStore(t, real, Options{})
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	conn, err := real.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := rs.Save(ctx, "locked", &seshat.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+strings.TrimSuffix(strings.SplitN(rs.q.check, " FROM ", 2)[1], " LIMIT 0")+" WHERE key = 'locked' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = rs.Touch(tctx, "locked", time.Now().Add(2*time.Hour))
	if !errors.Is(err, seshat.ErrStoreUnavailable) || time.Since(start) > 2*time.Second {
		t.Fatalf("Touch blocked by a row lock, 50 ms deadline: %v after %v", err, time.Since(start))
	}
}

func TestUnavailableClassification(t *testing.T) {
	cases := map[error]bool{
		&pgconnErr{"57P01"}: true, &pgconnErr{"08006"}: true, &pgconnErr{"53300"}: true,
		&pgconnErr{"40001"}: true, &pgconnErr{"55P03"}: true, &pgconnErr{"57014"}: true,
		&pgconnErr{"42P01"}: false, &pgconnErr{"22P02"}: false, &pgconnErr{"23505"}: false,
		context.DeadlineExceeded: true, errors.New("dial tcp: connection refused"): true,
		pgx.ErrTxClosed: true,
	}
	for err, want := range cases {
		if got := unavailable(err); got != want {
			t.Errorf("unavailable(%v) = %v, want %v", err, got, want)
		}
	}
}

// pgconnErr builds a server error with a given SQLSTATE.
type pgconnErr struct{ code string }

func (e *pgconnErr) Error() string { return "server error " + e.code }
func (e *pgconnErr) Unwrap() error { return &pgconn.PgError{Code: e.code} }

// TestDocDDL keeps the DDL in the package documentation equal to what New
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
			t.Errorf("doc.go does not show the statement New runs:\n%s", stmt)
		}
	}
}
