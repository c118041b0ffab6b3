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

// twoStores opens two Stores on the file at path, as two processes would,
// each with its own writer connection; they close when t ends.
func twoStores(t *testing.T, path string) []*Store {
	t.Helper()
	stores := make([]*Store, 2)
	for i := range stores {
		s, err := Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}
