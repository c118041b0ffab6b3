package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// newTestStore opens a Store on a fresh file in t's temporary directory and
// closes it when t ends.
func newTestStore(t testing.TB, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "sessions.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
