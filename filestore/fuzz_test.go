package filestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
)

// FuzzRecordFile puts arbitrary bytes where a session file lives (a disk
// error, another program, an attacker with write access to the directory)
// and reads it back through Load and Merge: a record, ErrNoRecord or
// ErrCorrupt, never a panic; and a file that loads survives a merge.
func FuzzRecordFile(f *testing.F) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := open(f, filestore.Options{CleanupInterval: -1, NoSync: true, Now: func() time.Time { return now }})
	k := newKey()
	f.Add([]byte(`{"v":1,"expires":"2031-02-03T03:05:06.000000789Z","user":"bob","values":{"cart":[1,2],"t":{" t":["x",1]}}}`))
	f.Add([]byte(`{"v":1,"expires":"2031-02-03T03:05:06Z","values":null}`))
	f.Add([]byte(`{"v":2,"expires":"2031-02-03T03:05:06Z","values":{}}`))
	f.Add([]byte(`{"v":1,"expires":"1999-01-01T00:00:00Z","values":{"a":1}}`))
	f.Add([]byte(`{"v":1,"expires":"2031-02-03T03:05:06Z","values":{"a":NaN}}`))
	f.Add([]byte(`{"v":1,"v":1,"expires":"+99999-01-01T00:00:00Z"}`))
	f.Add([]byte("\x00\xff"))
	ctx := context.Background()
	path := filepath.Join(s.Dir(), k)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, err := s.Load(ctx, k)
		switch {
		case errors.Is(err, seshat.ErrNoRecord):
			return
		case err != nil:
			if !errors.Is(err, filestore.ErrCorrupt) || !errors.Is(err, seshat.ErrCorruptRecord) {
				t.Fatalf("unreadable file not reported as corrupt: %v", err)
			}
			return
		}
		ch := &seshat.Change{Set: map[string][]byte{"fuzz": []byte(`1`)}, Expires: now.Add(time.Hour)}
		if err := s.Merge(ctx, k, ch); err != nil {
			t.Fatalf("a record that loads does not merge: %v", err)
		}
		back, err := s.Load(ctx, k)
		if err != nil {
			t.Fatalf("merged record does not load: %v", err)
		}
		for key := range rec.Values {
			if _, ok := back.Values[key]; !ok && key != "fuzz" {
				t.Fatalf("merge lost key %q", key)
			}
		}
		if string(back.Values["fuzz"]) != "1" || back.UserID != rec.UserID {
			t.Fatalf("merge result %q owner %q, want owner %q", back.Values["fuzz"], back.UserID, rec.UserID)
		}
	})
}
