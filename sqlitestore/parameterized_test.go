package sqlitestore

import (
	"database/sql/driver"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sqlspy"
	"github.com/seshat-go/seshat/storetest"
)

// TestParameterized (checklist ST-05): keys, users, value names and values
// shaped like SQL injection round-trip exactly and match nothing else, and
// none of them ever appears in the text of a statement sent to SQLite:
// every caller value travels as a bound parameter. The spy sees every
// statement the store prepares or runs, on the writer and on the readers.
func TestParameterized(t *testing.T) {
	var spies []*sqlspy.Connector
	s := newTestStore(t, Options{connector: func(dsn string) driver.Connector {
		c := sqlspy.Wrap(sqlspy.DriverConnector{D: &sqlite.Driver{}, DSN: dsn})
		spies = append(spies, c) // Open makes its pools one after the other
		return c
	}})
	storetest.InjectionShaped(t, s)
	takeInjectionShaped(t, s)
	if len(spies) != 2 {
		t.Fatalf("%d pools opened, want the writer and the readers", len(spies))
	}
	var all []string
	for _, sp := range spies {
		all = append(all, sp.Queries()...)
	}
	storetest.NoMarker(t, all, 10)
}

// takeInjectionShaped adds Take, which storetest.InjectionShaped does not
// drive, to the statements the spies see: a key, value names and a value
// shaped like SQL injection and like JSON paths, each holding the marker.
func takeInjectionShaped(t *testing.T, s *Store) {
	t.Helper()
	const m = storetest.InjectionMarker
	k := "'); DELETE FROM seshat_sessions; -- " + m
	names := []string{"$.a' OR 1=1 -- " + m, `"]') -- ` + m, "a.b[0]" + m}
	values := map[string][]byte{"keep": []byte(`1`)}
	for _, n := range names {
		values[n] = []byte(`"` + n + `"`)
	}
	if err := s.Save(t.Context(), k, &seshat.Record{Values: values, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if v, ok, err := s.Take(t.Context(), k, n); err != nil || !ok || string(v) != string(values[n]) {
			t.Fatalf("Take(%q) = %s, %v, %v", n, v, ok, err)
		}
		if _, ok, err := s.Take(t.Context(), k, "' OR '1'='1"+m); err != nil || ok {
			t.Fatalf("an injection-shaped name matched a value: %v, %v", ok, err)
		}
	}
	if rec, err := s.Load(t.Context(), k); err != nil || len(rec.Values) != 1 || string(rec.Values["keep"]) != "1" {
		t.Fatalf("after the takes: %v, %v", rec, err)
	}
	if err := s.Delete(t.Context(), k); err != nil {
		t.Fatal(err)
	}
}
