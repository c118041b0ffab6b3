package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sqlspy"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/mysqlstore"
	"github.com/seshat-go/seshat/storetest"
)

func vals(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func mustLoad(t *testing.T, s *mysqlstore.Store, key string) *seshat.Record {
	t.Helper()
	rec, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return rec
}

func rowCount(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSchemaIdempotent(t *testing.T) {
	db := testDB(t)
	table := tempTable(t, db)
	ctx := context.Background()
	k := newKey()
	for i := range 3 {
		s, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: table, CleanupInterval: -1})
		if err != nil {
			t.Fatalf("New #%d: %v", i, err)
		}
		if i == 0 {
			if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		} else if rec, err := s.Load(ctx, k); err != nil || string(rec.Values["a"]) != "1" {
			t.Fatalf("New #%d lost the data: %v", i, err)
		}
		s.Close()
	}
	var name, create string
	if err := db.QueryRow("SHOW CREATE TABLE `"+table+"`").Scan(&name, &create); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`id` varbinary(255) NOT NULL", "`user_id` varbinary(255) NOT NULL", "`expires_at` bigint(20) NOT NULL", "PRIMARY KEY (`id`)", "KEY `user_expires` (`user_id`,`expires_at`)", "KEY `expires` (`expires_at`)"} {
		if !strings.Contains(create, want) {
			t.Errorf("schema lacks %q:\n%s", want, create)
		}
	}
	// NoCreateTable over a table that does not exist fails at New.
	if _, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: "seshat_no_such_table", NoCreateTable: true, CleanupInterval: -1}); err == nil {
		t.Fatal("New with NoCreateTable accepted a missing table")
	}
}

func TestInvalidOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := mysqlstore.New(ctx, nil, mysqlstore.Options{}); err == nil {
		t.Fatal("nil db accepted")
	}
	db := testDB(t)
	for _, name := range []string{"a;b", "x`y", "t t", "1abc", strings.Repeat("a", 65), "sessions; DROP TABLE users", "é"} {
		if _, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: name}); err == nil {
			t.Errorf("table name %q accepted", name)
		}
	}
}

// TestParameterized: keys, owners and values that look like SQL are data,
// and no statement text ever carries one (ST-05).
func TestParameterized(t *testing.T) {
	c, err := mysql.NewConnector(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	spy := sqlspy.Wrap(c)
	s := openStore(t, openDB(t, spy), mysqlstore.Options{})
	storetest.InjectionShaped(t, s)
	// storetest.InjectionShaped does not drive Take: names shaped like SQL
	// and like JSON paths, taken from a key shaped like SQL.
	k := "'); DELETE FROM t; -- " + storetest.InjectionMarker
	names := []string{"$.a' OR 1=1 -- ", `"]') -- `, "a.b[0]"}
	values := vals("keep", "1")
	for i := range names {
		names[i] += storetest.InjectionMarker
		values[names[i]] = []byte(fmt.Sprintf("%q", names[i]))
	}
	if err := s.Save(context.Background(), k, &seshat.Record{Values: values, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if v, ok, err := s.Take(context.Background(), k, n); err != nil || !ok || string(v) != string(values[n]) {
			t.Fatalf("Take(%q) = %s, %v, %v", n, v, ok, err)
		}
	}
	if rec := mustLoad(t, s, k); len(rec.Values) != 1 {
		t.Fatalf("after the takes: %q", rec.Values)
	}
	storetest.NoMarker(t, spy.Queries(), 10)
}

func TestKeyLimits(t *testing.T) {
	s := openStore(t, testDB(t), mysqlstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, k := range []string{"", strings.Repeat("k", 256), strings.Repeat("k", 10<<10)} {
		if _, err := s.Load(ctx, k); err == nil || errors.Is(err, seshat.ErrNoRecord) {
			t.Errorf("Load of a %d-byte key: %v", len(k), err)
		}
		if err := s.Save(ctx, k, &seshat.Record{Expires: exp}); err == nil {
			t.Errorf("Save of a %d-byte key accepted", len(k))
		}
		if err := s.Merge(ctx, k, &seshat.Change{Expires: exp, Create: true}); err == nil {
			t.Errorf("Merge of a %d-byte key accepted", len(k))
		}
	}
	if err := s.Save(ctx, strings.Repeat("k", 255), &seshat.Record{Expires: exp, UserID: strings.Repeat("u", 255)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, newKey(), &seshat.Record{Expires: exp, UserID: strings.Repeat("u", 256)}); err == nil {
		t.Fatal("a 256-byte owner accepted")
	}
}

// TestExactMatch: keys and owners compare byte for byte: no case folding,
// no trailing-space padding.
func TestExactMatch(t *testing.T) {
	s := openStore(t, testDB(t), mysqlstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i, k := range []string{"abc", "ABC", "abc ", "\u00e9", "e\u0301"} {
		if err := s.Save(ctx, k, &seshat.Record{Values: vals("i", fmt.Sprint(i)), Expires: exp, UserID: k}); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range []string{"abc", "ABC", "abc ", "\u00e9", "e\u0301"} {
		if got := string(mustLoad(t, s, k).Values["i"]); got != fmt.Sprint(i) {
			t.Fatalf("key %q reads the value of another key: %s", k, got)
		}
		if infos, err := s.ListByUser(ctx, k); err != nil || len(infos) != 1 || infos[0].Key != k {
			t.Fatalf("ListByUser(%q) = %v, %v", k, infos, err)
		}
	}
	if _, err := s.Load(ctx, "abc  "); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("padding matched: %v", err)
	}
}

// TestConcurrentMerges: 50 goroutines each merge their own value into each
// of 20 sessions (created by whichever merge comes first); every value must
// be there.
func TestConcurrentMerges(t *testing.T) {
	db := testDB(t)
	s := openStore(t, db, mysqlstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = newKey()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50*len(keys))
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := keys[(i+g)%len(keys)]
				ch := &seshat.Change{Set: vals(fmt.Sprintf("g%02d", g), fmt.Sprint(g)), Expires: exp, Create: true, UserID: "u", SetUser: g%2 == 0}
				if err := s.Merge(ctx, k, ch); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, k := range keys {
		rec := mustLoad(t, s, k)
		if len(rec.Values) != 50 {
			t.Fatalf("%s: %d values, want 50 (lost updates)", k, len(rec.Values))
		}
		for g := range 50 {
			if v := string(rec.Values[fmt.Sprintf("g%02d", g)]); v != fmt.Sprint(g) {
				t.Fatalf("%s: g%02d = %q", k, g, v)
			}
		}
	}
	if infos, err := s.ListByUser(ctx, "u"); err != nil || len(infos) != len(keys) {
		t.Fatalf("ListByUser: %d, %v; want %d", len(infos), err, len(keys))
	}
}

func TestJSONNullSurvivesMerge(t *testing.T) {
	db := testDB(t)
	table := tempTable(t, db)
	s := openStore(t, db, mysqlstore.Options{Table: table})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("a", "null", "b", "1", "gone", "2"), Expires: exp, Create: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("b", "null", "c", `[null]`, "d", `{"x":null}`), Delete: []string{"gone"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	// Create over a live row merges too, nulls included.
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("e", "null"), Expires: exp, Create: true}); err != nil {
		t.Fatal(err)
	}
	rec := mustLoad(t, s, k)
	want := map[string]string{"a": "null", "b": "null", "c": "[null]", "d": `{"x":null}`, "e": "null"}
	if len(rec.Values) != len(want) {
		t.Fatalf("values %q", rec.Values)
	}
	for k, v := range want {
		got, ok := rec.Values[k]
		if !ok || strings.ReplaceAll(string(got), " ", "") != v {
			t.Fatalf("%s = %q (present %v), want %s", k, got, ok, v)
		}
	}
	var data string
	if err := db.QueryRow("SELECT data FROM `"+table+"` WHERE id = ?", k).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ReplaceAll(data, " ", ""), `"a":[null]`) {
		t.Fatalf("stored document %s", data)
	}
}

func TestSetWinsOverDelete(t *testing.T) {
	s := openStore(t, testDB(t), mysqlstore.Options{})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	s.Merge(ctx, k, &seshat.Change{Set: vals("a", "1"), Expires: exp, Create: true})
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("a", "2"), Delete: []string{"a"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if got := string(mustLoad(t, s, k).Values["a"]); got != "2" {
		t.Fatalf("a = %q", got)
	}
}

func TestExpiredInvisibleBeforeCleanup(t *testing.T) {
	c := newClock()
	db := testDB(t)
	table := tempTable(t, db)
	s := openStore(t, db, mysqlstore.Options{Table: table, Now: c.now})
	ctx := context.Background()
	k := newKey()
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: c.now().Add(time.Minute), UserID: "eve"}); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, s, k)
	c.advance(time.Minute) // expiry == now: expired
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load of an expired session: %v", err)
	}
	if n := rowCount(t, db, table); n != 1 {
		t.Fatalf("%d rows; the expired row should still be there before cleanup", n)
	}
	if infos, err := s.ListByUser(ctx, "eve"); err != nil || len(infos) != 0 {
		t.Fatalf("ListByUser lists an expired session: %v %v", infos, err)
	}
	n := 0
	s.Iterate(ctx, func(seshat.SessionInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("Iterate saw %d expired sessions", n)
	}
	if err := s.Touch(ctx, k, c.now().Add(time.Hour)); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Touch revived an expired session: %v", err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("b", "2"), Expires: c.now().Add(time.Hour)}); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge on an expired session: %v, want ErrSessionGone", err)
	}
	if n, err := s.RevokeUser(ctx, "eve"); err != nil || n != 0 {
		t.Fatalf("RevokeUser counted an expired session: %d, %v", n, err)
	}
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("after the refused writes: %v", err)
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if n := rowCount(t, db, table); n != 0 {
		t.Fatalf("%d rows after cleanup", n)
	}
}

func TestCreateReplacesExpired(t *testing.T) {
	c := newClock()
	s := openStore(t, testDB(t), mysqlstore.Options{Now: c.now})
	ctx := context.Background()
	for _, setUser := range []bool{false, true} {
		k := newKey()
		s.Save(ctx, k, &seshat.Record{Values: vals("old", "1"), Expires: c.now().Add(time.Second), UserID: "old-owner"})
		c.advance(time.Minute)
		if err := s.Merge(ctx, k, &seshat.Change{Set: vals("new", "2"), Delete: []string{"x"}, Expires: c.now().Add(time.Hour), Create: true, SetUser: setUser, UserID: "new-owner"}); err != nil {
			t.Fatal(err)
		}
		rec := mustLoad(t, s, k)
		wantUser := ""
		if setUser {
			wantUser = "new-owner"
		}
		if len(rec.Values) != 1 || string(rec.Values["new"]) != "2" || rec.UserID != wantUser {
			t.Fatalf("setUser=%v: an expired row leaked into the new session: %q owner %q", setUser, rec.Values, rec.UserID)
		}
	}
}

func TestDepthAndValidity(t *testing.T) {
	s := openStore(t, testDB(t), mysqlstore.Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	k := newKey()
	deep := func(n int) string { return strings.Repeat("[", n) + `"x[{"` + strings.Repeat("]", n) }
	ok := deep(mysqlstore.MaxValueDepth)
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("deep", ok), Expires: exp, Create: true}); err != nil {
		t.Fatalf("depth %d: %v", mysqlstore.MaxValueDepth, err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("deep2", ok), Expires: exp}); err != nil {
		t.Fatalf("depth %d in an update: %v", mysqlstore.MaxValueDepth, err)
	}
	if got := string(mustLoad(t, s, k).Values["deep2"]); strings.ReplaceAll(got, " ", "") != ok {
		t.Fatalf("deep value came back as %s", got)
	}
	for _, bad := range []string{deep(mysqlstore.MaxValueDepth + 1), `not json`, `{`, ``, `1 2`} {
		if err := s.Save(ctx, newKey(), &seshat.Record{Values: vals("v", bad), Expires: exp}); err == nil {
			t.Errorf("Save accepted %.40q", bad)
		}
		if err := s.Merge(ctx, k, &seshat.Change{Set: vals("v", bad), Expires: exp}); err == nil {
			t.Errorf("Merge accepted %.40q", bad)
		}
	}
	if _, ok := mustLoad(t, s, k).Values["v"]; ok {
		t.Fatal("a refused value was stored")
	}
}

// TestIteratePages walks more than two pages, deleting as it goes through a
// pool of one connection: Iterate must hold no connection while fn runs.
func TestIteratePages(t *testing.T) {
	db := testDB(t)
	db.SetMaxOpenConns(1)
	table := tempTable(t, db)
	s := openStore(t, db, mysqlstore.Options{Table: table})
	ctx := context.Background()
	now := time.Now()
	// Insert directly, many rows per statement.
	var b strings.Builder
	args := []any{}
	b.WriteString("INSERT INTO `" + table + "` (id, data, user_id, expires_at) VALUES ")
	for i := range 1203 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(?, '{}', '', ?)")
		exp := now.Add(time.Hour)
		if i%100 == 7 {
			exp = now.Add(-time.Hour)
		}
		args = append(args, fmt.Sprintf("k%05d", i), exp.UnixMicro())
	}
	if _, err := db.Exec(b.String(), args...); err != nil {
		t.Fatal(err)
	}
	expired := 0
	for i := range 1203 {
		if i%100 == 7 {
			expired++
		}
	}
	seen := map[string]bool{}
	done := make(chan error, 1)
	go func() {
		done <- s.Iterate(ctx, func(in seshat.SessionInfo) error {
			if seen[in.Key] {
				return fmt.Errorf("%s seen twice", in.Key)
			}
			seen[in.Key] = true
			return s.Delete(ctx, in.Key)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Iterate deadlocked on a one-connection pool")
	}
	if len(seen) != 1203-expired {
		t.Fatalf("Iterate saw %d sessions, want %d", len(seen), 1203-expired)
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != expired {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
}

func TestDeleteExpiredBatches(t *testing.T) {
	db := testDB(t)
	table := tempTable(t, db)
	s := openStore(t, db, mysqlstore.Options{Table: table})
	past := time.Now().Add(-time.Minute).UnixMicro()
	for range 3 {
		var b strings.Builder
		args := []any{}
		b.WriteString("INSERT INTO `" + table + "` (id, data, user_id, expires_at) VALUES ")
		for i := range 1000 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?, '{}', '', ?)")
			args = append(args, newKey(), past)
		}
		if _, err := db.Exec(b.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
	live := newKey()
	s.Save(context.Background(), live, &seshat.Record{Expires: time.Now().Add(time.Hour)})
	if n, err := s.DeleteExpired(context.Background()); err != nil || n != 3000 {
		t.Fatalf("DeleteExpired = %d, %v; want 3000", n, err)
	}
	if n := rowCount(t, db, table); n != 1 {
		t.Fatalf("%d rows left, want the live one", n)
	}
}

func TestCleanerStopsOnClose(t *testing.T) {
	db := testDB(t)
	table := tempTable(t, db)
	ctx := context.Background()
	s, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: table, CleanupInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	if err := s.Save(ctx, newKey(), &seshat.Record{Expires: past}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rowCount(t, db, table) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background cleaner did not delete an expired row within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	other := openStore(t, db, mysqlstore.Options{Table: table}) // no cleaner
	if err := other.Save(ctx, newKey(), &seshat.Record{Expires: past}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // ten cleaner periods
	if n := rowCount(t, db, table); n != 1 {
		t.Fatalf("a cleaner still ran after Close: %d rows", n)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("Close closed the caller's *sql.DB: %v", err)
	}
}

// TestUnavailable: a database that cannot be reached, or goes away, gives
// ErrStoreUnavailable, never ErrNoRecord or ErrSessionGone, and the store
// recovers by itself when it comes back (ST-03).
func TestUnavailable(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	mysql.SetLogger(log.New(io.Discard, "", 0)) // the outage's "bad connection" lines

	dead := cfg.Clone()
	dead.Addr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dead.Timeout = 2 * time.Second
	c, _ := mysql.NewConnector(dead)
	if _, err := mysqlstore.New(ctx, openDBNoPing(t, c), mysqlstore.Options{}); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("New on a closed port: %v, want ErrStoreUnavailable", err)
	}

	p := startProxy(t, cfg.Addr)
	viaProxy := cfg.Clone()
	viaProxy.Addr = p.addr
	viaProxy.Timeout = 2 * time.Second
	viaProxy.ReadTimeout = 5 * time.Second
	c, _ = mysql.NewConnector(viaProxy)
	db := openDB(t, c)
	table := tempTable(t, testDB(t)) // dropped over a direct connection
	s := openStore(t, db, mysqlstore.Options{Table: table})
	k := newKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, k, &seshat.Record{Values: vals("a", "1"), Expires: exp, UserID: "u"}); err != nil {
		t.Fatal(err)
	}

	p.Stop()
	octx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := s.Load(octx, k)
	if !errors.Is(err, seshat.ErrStoreUnavailable) || errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load during the outage: %v", err)
	}
	for name, err := range map[string]error{
		"Merge":  s.Merge(octx, k, &seshat.Change{Set: vals("b", "2"), Expires: exp}),
		"Create": s.Merge(octx, k, &seshat.Change{Set: vals("b", "2"), Expires: exp, Create: true}),
		"Save":   s.Save(octx, k, &seshat.Record{Expires: exp}),
		"Touch":  s.Touch(octx, k, exp),
		"Delete": s.Delete(octx, k),
		"Take": func() error {
			_, _, err := s.Take(octx, k, "a")
			return err
		}(),
	} {
		if !errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Errorf("%s during the outage: %v", name, err)
		}
	}
	if _, err := s.ListByUser(octx, "u"); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Errorf("ListByUser during the outage: %v", err)
	}
	if err := s.Iterate(octx, func(seshat.SessionInfo) error { return nil }); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Errorf("Iterate during the outage: %v", err)
	}
	if _, err := s.DeleteExpired(octx); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Errorf("DeleteExpired during the outage: %v", err)
	}

	p.Restart()
	rec, err := s.Load(octx, k)
	if err != nil {
		t.Fatalf("Load after the outage: %v", err)
	}
	if string(rec.Values["a"]) != "1" || rec.UserID != "u" {
		t.Fatalf("session changed by the outage: %q %q", rec.Values, rec.UserID)
	}
}

// TestOneSessionUnderLoad: 50 goroutines each read and merge one session 8
// times while the cleaner runs every few milliseconds. Every merge must
// succeed (no deadlock between merges of one row, or with the cleaner's
// range delete) and every key must persist.
func TestOneSessionUnderLoad(t *testing.T) {
	db := testDB(t)
	logs := &lockedBuffer{}
	s := openStore(t, db, mysqlstore.Options{CleanupInterval: 5 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx := context.Background()
	k := newKey()
	if err := s.Merge(ctx, k, &seshat.Change{Set: vals("base", "0"), Expires: time.Now().Add(time.Hour), Create: true}); err != nil {
		t.Fatal(err)
	}
	// Expired rows for the cleaner to find.
	for range 20 {
		s.Save(ctx, newKey(), &seshat.Record{Expires: time.Now().Add(-time.Second)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				if _, err := s.Load(ctx, k); err != nil {
					errs <- err
				}
				ch := &seshat.Change{Set: vals(fmt.Sprintf("g%02d-%02d", g, i), "1"), Expires: time.Now().Add(time.Hour)}
				if err := s.Merge(ctx, k, ch); err != nil {
					errs <- err
				}
				if g%10 == 0 {
					s.Save(ctx, newKey(), &seshat.Record{Expires: time.Now().Add(-time.Second)})
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(mustLoad(t, s, k).Values); n != 401 {
		t.Fatalf("%d values, want 401", n)
	}
	s.Close()
	if l := logs.String(); l != "" {
		t.Fatalf("the cleaner failed under load:\n%s", l)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
