package filestore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
)

func newKey() string {
	var b [32]byte
	rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func open(t testing.TB, opts filestore.Options) *filestore.Store {
	t.Helper()
	s, err := filestore.New(filepath.Join(t.TempDir(), "sessions"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable clock for expiry tests.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// tree lists every path under root, relative to it.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestInvalidKeysTouchNothing(t *testing.T) {
	root := t.TempDir()
	s, err := filestore.New(filepath.Join(root, "store"), filestore.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	valid := newKey()
	bad := []string{
		"",
		"../../etc/passwd",
		"a/b",
		"%00",
		"\x00",
		valid[:63] + "\x00",
		strings.Repeat("a", 10<<10),
		strings.Repeat("../", 30),
		"../" + valid[3:],                  // 64 bytes, climbs out
		valid[:32] + "/" + valid[33:],      // 64 bytes, a separator
		valid[:32] + "\\" + valid[33:],     // Windows separator
		strings.ToUpper(valid),             // case-folding filesystems
		strings.Repeat("g", 64),            // not hex
		valid[:63],                         // short
		valid + "0",                        // long
		valid + "\n",                       // trailing newline
		" " + valid[1:],                    // leading space
		"users",                            // the index folder
		".tmp-" + valid[5:],                // a temporary file's name
		".",                                // the directory itself
		"..",                               // its parent
		"\u0660" + valid[2:],               // Arabic-Indic digit zero: not ASCII hex
		"%2e%2e%2f" + valid[9:],            // percent-encoded "../"
		"C:" + valid[2:],                   // a drive letter
		valid[:60] + "\u00e9" + valid[62:], // non-ASCII letter
	}
	ctx := context.Background()
	future := time.Now().Add(time.Hour)
	rec := &seshat.Record{Values: map[string][]byte{"a": []byte(`1`)}, Expires: future, UserID: "u"}
	for _, k := range bad {
		name := fmt.Sprintf("%.40q(len %d)", k, len(k))
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, filestore.ErrInvalidKey) {
				t.Errorf("%s %s: err = %v, want ErrInvalidKey", op, name, err)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("%s %s: error message of %d bytes carries the key", op, name, len(err.Error()))
			}
		}
		_, err := s.Load(ctx, k)
		check("Load", err)
		check("Save", s.Save(ctx, k, rec))
		check("Delete", s.Delete(ctx, k))
		check("Merge", s.Merge(ctx, k, &seshat.Change{Set: rec.Values, Expires: future, Create: true, UserID: "u", SetUser: true}))
		check("Touch", s.Touch(ctx, k, future))
		_, _, err = s.Take(ctx, k, "a")
		check("Take", err)
	}
	if got, want := tree(t, root), []string{".", "store", "store/users"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files after invalid keys: %q, want %q", got, want)
	}
	// The valid key still works, and lands inside the directory.
	if err := s.Save(ctx, valid, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "store", valid)); err != nil {
		t.Fatal(err)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes on Windows")
	}
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"a": []byte(`1`)}, Expires: exp, UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"b": []byte(`2`)}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, k, exp.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ud := filepath.Join(s.Dir(), "users", hash("alice"))
	want := map[string]fs.FileMode{
		s.Dir():                         fs.ModeDir | 0o700,
		filepath.Join(s.Dir(), "users"): fs.ModeDir | 0o700,
		ud:                              fs.ModeDir | 0o700,
		filepath.Join(ud, k):            0o600,
		filepath.Join(s.Dir(), k):       0o600,
	}
	for p, m := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != m {
			t.Errorf("%s: mode %v, want %v", p, got, m)
		}
	}
}

func TestNewRefusesUnsafeDirs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes on Windows")
	}
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.New(dir, filestore.Options{}); err == nil {
		t.Fatal("New accepted a world-writable directory")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := filestore.New(file, filestore.Options{}); err == nil {
		t.Fatal("New accepted a regular file")
	}
	if _, err := filestore.New("", filestore.Options{}); err == nil {
		t.Fatal("New accepted an empty name")
	}
	// A private existing directory is fine.
	ok := filepath.Join(t.TempDir(), "ok")
	os.Mkdir(ok, 0o750)
	s, err := filestore.New(ok, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestFileFormat(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	k := newKey()
	exp := time.Date(2031, 2, 3, 4, 5, 6, 789, time.FixedZone("X", 3600))
	vals := map[string][]byte{"cart": []byte(`[1, 2]`), "nothing": []byte(`null`), "t": []byte(`{" t":["x",1]}`)}
	if err := s.Save(context.Background(), k, &seshat.Record{Values: vals, Expires: exp, UserID: "bob"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir(), k))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		V       int                        `json:"v"`
		Expires string                     `json:"expires"`
		User    string                     `json:"user"`
		Values  map[string]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if got.V != 1 || got.Expires != "2031-02-03T03:05:06.000000789Z" || got.User != "bob" {
		t.Fatalf("file %s", data)
	}
	if string(got.Values["cart"]) != `[1,2]` || string(got.Values["nothing"]) != `null` || string(got.Values["t"]) != `{" t":["x",1]}` {
		t.Fatalf("values %s", data)
	}
	if names := tree(t, s.Dir()); len(names) != 5 { // . k users users/<h> users/<h>/k
		t.Fatalf("leftovers in the directory: %q", names)
	}
}

func TestInvalidValuesRefused(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"a": []byte(`not json`)}, Expires: exp}); err == nil {
		t.Fatal("Save accepted a value that is not JSON")
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"a": []byte(`{`)}, Expires: exp, Create: true}); err == nil {
		t.Fatal("Merge accepted a value that is not JSON")
	}
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("a refused write left a record: %v", err)
	}
}

// TestConcurrentMerges: 50 goroutines each merge their own value into each
// of 20 sessions; every value must be there.
func TestConcurrentMerges(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
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
				ch := &seshat.Change{Set: map[string][]byte{fmt.Sprintf("g%02d", g): []byte(fmt.Sprint(g))}, Expires: exp, Create: true, UserID: "u", SetUser: g%2 == 0}
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
		rec, err := s.Load(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Values) != 50 {
			t.Fatalf("%s: %d values, want 50 (lost updates)", k, len(rec.Values))
		}
		for g := range 50 {
			if v := string(rec.Values[fmt.Sprintf("g%02d", g)]); v != fmt.Sprint(g) {
				t.Fatalf("%s: g%02d = %q", k, g, v)
			}
		}
	}
	infos, err := s.ListByUser(ctx, "u")
	if err != nil || len(infos) != len(keys) {
		t.Fatalf("ListByUser: %d sessions, %v; want %d", len(infos), err, len(keys))
	}
}

func TestJSONNullSurvivesMerge(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"a": []byte(`null`), "b": []byte(`1`)}, Expires: exp, Create: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"b": []byte(`null`), "c": []byte(`[null]`)}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "null", "b": "null", "c": "[null]"}
	if len(rec.Values) != len(want) {
		t.Fatalf("values %q", rec.Values)
	}
	for k, v := range want {
		if got, ok := rec.Values[k]; !ok || string(got) != v {
			t.Fatalf("%s = %q (present %v), want %s", k, got, ok, v)
		}
	}
}

func TestExpiredInvisibleBeforeCleanup(t *testing.T) {
	c := newClock()
	s := open(t, filestore.Options{CleanupInterval: -1, Now: c.now})
	ctx := context.Background()
	k := newKey()
	if err := s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"a": []byte(`1`)}, Expires: c.now().Add(time.Minute), UserID: "eve"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, k); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute) // expiry == now: expired
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("Load of an expired session: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), k)); err != nil {
		t.Fatalf("the file should still be there before cleanup: %v", err)
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
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"b": []byte(`2`)}, Expires: c.now().Add(time.Hour)}); !errors.Is(err, seshat.ErrSessionGone) {
		t.Fatalf("Merge on an expired session: %v, want ErrSessionGone", err)
	}
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("after the refused merge: %v", err)
	}
	n, err := s.DeleteExpired(ctx)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if got := tree(t, s.Dir()); fmt.Sprint(got) != "[. users]" {
		t.Fatalf("left after cleanup: %q (file, marker and user folder must be gone)", got)
	}
}

func TestCreateReplacesExpired(t *testing.T) {
	c := newClock()
	s := open(t, filestore.Options{CleanupInterval: -1, Now: c.now})
	ctx := context.Background()
	k := newKey()
	s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"old": []byte(`1`)}, Expires: c.now().Add(time.Second), UserID: "old-owner"})
	c.advance(time.Minute)
	if err := s.Merge(ctx, k, &seshat.Change{Set: map[string][]byte{"new": []byte(`2`)}, Expires: c.now().Add(time.Hour), Create: true}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Values) != 1 || rec.UserID != "" {
		t.Fatalf("an expired record leaked into a new one: %q owner %q", rec.Values, rec.UserID)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "users", hash("old-owner"), k)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old owner's marker kept: %v", err)
	}
}

func TestOwnerMoves(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	exp := time.Now().Add(time.Hour)
	list := func(u string) int {
		t.Helper()
		infos, err := s.ListByUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return len(infos)
	}
	s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{}, Expires: exp, UserID: "a"})
	s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{}, Expires: exp, UserID: "b"})
	if list("a") != 0 || list("b") != 1 {
		t.Fatal("Save did not move the owner")
	}
	s.Merge(ctx, k, &seshat.Change{Expires: exp, UserID: "c", SetUser: true})
	if list("b") != 0 || list("c") != 1 {
		t.Fatal("Merge did not move the owner")
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "users", hash("b"), k)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old marker kept: %v", err)
	}
	if list("") != 0 {
		t.Fatal("anonymous sessions listed")
	}
	if n, err := s.RevokeUser(ctx, ""); n != 0 || err != nil {
		t.Fatalf("RevokeUser(\"\") = %d, %v", n, err)
	}
}

func TestCleanerStopsOnClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := filestore.New(dir, filestore.Options{CleanupInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	past := time.Now().Add(-time.Second)
	expired := func() string {
		k := newKey()
		if err := s.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"a": []byte(`1`)}, Expires: past}); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, k)
	}
	p := expired()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background cleaner did not remove an expired session within 10s")
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
	p = expired()
	time.Sleep(100 * time.Millisecond) // ten cleaner periods
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("a cleaner still ran after Close: %v", err)
	}
	// The store itself stays usable after Close.
	if _, err := s.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteExpiredPrunes(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	live := newKey()
	s.Save(ctx, live, &seshat.Record{Values: map[string][]byte{}, Expires: exp, UserID: "kept"})
	users := filepath.Join(s.Dir(), "users")
	// A marker without a session, and one under the wrong user.
	orphan, wrong := filepath.Join(users, hash("ghost"), newKey()), filepath.Join(users, hash("other"), live)
	for _, p := range []string{orphan, wrong} {
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, nil, 0o600)
	}
	// A crash's leftover temporary file, and a write in progress.
	oldTmp, newTmp := filepath.Join(s.Dir(), ".tmp-123"), filepath.Join(s.Dir(), ".tmp-456")
	os.WriteFile(oldTmp, []byte("x"), 0o600)
	os.WriteFile(newTmp, []byte("x"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(oldTmp, old, old)
	// Something that is not ours.
	foreign := filepath.Join(s.Dir(), "README")
	os.WriteFile(foreign, []byte("x"), 0o600)

	if n, err := s.DeleteExpired(ctx); err != nil || n != 0 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	for p, want := range map[string]bool{orphan: false, wrong: false, filepath.Dir(orphan): false, filepath.Dir(wrong): false, oldTmp: false, newTmp: true, foreign: true, filepath.Join(users, hash("kept"), live): true} {
		_, err := os.Stat(p)
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", p, got, want)
		}
	}
	if infos, err := s.ListByUser(ctx, "kept"); err != nil || len(infos) != 1 {
		t.Fatalf("live session lost from the index: %v %v", infos, err)
	}
}

func TestCorruptFile(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	for _, content := range []string{"", "{", `{"v":2,"expires":"2100-01-01T00:00:00Z","values":{}}`, "\x00\x01"} {
		os.WriteFile(filepath.Join(s.Dir(), k), []byte(content), 0o600)
		if _, err := s.Load(ctx, k); !errors.Is(err, filestore.ErrCorrupt) || errors.Is(err, seshat.ErrNoRecord) {
			t.Fatalf("Load of %q: %v, want ErrCorrupt", content, err)
		}
		if err := s.Merge(ctx, k, &seshat.Change{Expires: time.Now().Add(time.Hour), Create: true}); !errors.Is(err, filestore.ErrCorrupt) {
			t.Fatalf("Merge over %q: %v, want ErrCorrupt", content, err)
		}
		if _, ok, err := s.Take(ctx, k, "a"); !errors.Is(err, filestore.ErrCorrupt) || ok {
			t.Fatalf("Take from %q: %v, %v, want ErrCorrupt", content, ok, err)
		}
		if err := s.Iterate(ctx, func(seshat.SessionInfo) error { return errors.New("corrupt file iterated") }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, k); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatal(err)
	}
}

func TestFilesystemFailureIsUnavailable(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	k := newKey()
	// A directory where the session file should be: reading it fails with
	// something other than "not found".
	if err := os.Mkdir(filepath.Join(s.Dir(), k), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background(), k); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Load: %v, want ErrStoreUnavailable", err)
	}
	if err := s.Save(context.Background(), k, &seshat.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Save: %v, want ErrStoreUnavailable", err)
	}
	if _, _, err := s.Take(context.Background(), k, "a"); !errors.Is(err, seshat.ErrStoreUnavailable) {
		t.Fatalf("Take: %v, want ErrStoreUnavailable", err)
	}
	if names := tree(t, s.Dir()); len(names) != 3 {
		t.Fatalf("a failed write left files behind: %q", names)
	}
}

func TestCanceledContext(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Load(ctx, newKey()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load: %v", err)
	}
	if err := s.Iterate(ctx, func(seshat.SessionInfo) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Iterate: %v", err)
	}
	if _, _, err := s.Take(ctx, newKey(), "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Take: %v", err)
	}
}

// TestTakeFile: Take rewrites the file without the value, keeping the
// owner (and its index marker) and the expiry, and returns the value's
// bytes as the file held them; a Take that finds nothing leaves the file
// alone.
func TestTakeFile(t *testing.T) {
	s := open(t, filestore.Options{CleanupInterval: -1})
	ctx := context.Background()
	k := newKey()
	exp := time.Date(2100, 1, 2, 3, 4, 5, 6, time.UTC)
	values := map[string][]byte{"_flashes": []byte(`[{" t":["message","caf\u00e9"]}]`), "n": []byte(`null`)}
	if err := s.Save(ctx, k, &seshat.Record{Values: values, Expires: exp, UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), k)
	before, _ := os.Stat(path)
	if _, ok, err := s.Take(ctx, k, "absent"); err != nil || ok {
		t.Fatalf("Take of a missing value: %v, %v", ok, err)
	}
	if after, _ := os.Stat(path); !os.SameFile(before, after) {
		t.Fatal("a Take that found nothing rewrote the file")
	}
	for _, name := range []string{"_flashes", "n"} {
		if v, ok, err := s.Take(ctx, k, name); err != nil || !ok || string(v) != string(values[name]) {
			t.Fatalf("Take(%q) = %s, %v, %v", name, v, ok, err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"v":1,"expires":"2100-01-02T03:04:05.000000006Z","user":"alice","values":{}}`; string(data) != want {
		t.Fatalf("file after the takes:\n%s\nwant\n%s", data, want)
	}
	if infos, err := s.ListByUser(ctx, "alice"); err != nil || len(infos) != 1 || infos[0].Key != k {
		t.Fatalf("ListByUser after the takes: %v, %v", infos, err)
	}
}
