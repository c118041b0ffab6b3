package sqlitestore

import (
	"database/sql/driver"
	"testing"

	"modernc.org/sqlite"

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
	if len(spies) != 2 {
		t.Fatalf("%d pools opened, want the writer and the readers", len(spies))
	}
	var all []string
	for _, sp := range spies {
		all = append(all, sp.Queries()...)
	}
	storetest.NoMarker(t, all, 10)
}
