package mysqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/mysqlstore"
	"github.com/seshat-go/seshat/storetest"
)

// TestConformance runs the shared suite, each case on a table of its own
// that is dropped afterwards.
func TestConformance(t *testing.T) {
	db := testDB(t)
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s, err := mysqlstore.New(context.Background(), db, mysqlstore.Options{Table: tempTable(t, db), CleanupInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
