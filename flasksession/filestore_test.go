package flasksession

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

func TestFileStoreConformance(t *testing.T) {
	// Skipped by the suite itself, with its reasons: UserIndex (the layout
	// has no per-user index), Iterate and ManagerReadOnlyWritesNothing
	// (file names are MD5 hashes, so the store cannot list session ids).
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s, err := NewFileStore(t.TempDir(), FileStoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func newFS(t *testing.T, opts FileStoreOptions) (*FileStore, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := NewFileStore(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countOf(t *testing.T, dir string) int64 {
	t.Helper()
	b := readFile(t, dir, FileName(countFile))
	if binary.LittleEndian.Uint32(b) != 0 {
		t.Fatalf("count file expiry %x", b[:4])
	}
	v, err := DecodePickle(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	return v.(int64)
}

func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != FileName(countFile) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func TestFileStoreLayout(t *testing.T) {
	now := time.Unix(1740000000, 0)
	s, dir := newFS(t, FileStoreOptions{Now: func() time.Time { return now }})
	if countOf(t, dir) != 0 {
		t.Fatal("fresh count")
	}
	ids, _ := NewIDScheme(IDOptions{Unsigned: true})
	sid := ids.New()
	if !ValidID(sid) || sid[14] != '4' || !strings.ContainsRune("89ab", rune(sid[19])) {
		t.Fatalf("New() = %q is not a uuid4", sid)
	}
	rec := &seshat.Record{
		Values:  map[string][]byte{"_permanent": []byte("true"), "user": []byte(`"bob"`), "tup": []byte(`{" t":[1,"x"]}`)},
		Expires: now.Add(1800 * time.Second),
		UserID:  "u1",
	}
	if err := s.Save(t.Context(), sid, rec); err != nil {
		t.Fatal(err)
	}
	name := FileName("session:" + sid)
	if got := sessionFiles(t, dir); len(got) != 1 || got[0] != name {
		t.Fatalf("files %v, want [%s]", got, name)
	}
	st, _ := os.Stat(filepath.Join(dir, name))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	b := readFile(t, dir, name)
	if exp := binary.LittleEndian.Uint32(b); exp != 1740001800 {
		t.Fatalf("expiry header %d", exp) // as Flask-Session writes at t0 with 1800s
	}
	// A fractional expiry rounds up: the session never ends early.
	if got := fileExpiry(time.Unix(1740001800, 1)); got != 1740001801 {
		t.Fatalf("fileExpiry rounds to %d", got)
	}
	if b[4] != 0x80 || b[5] != 5 {
		t.Fatalf("not a protocol 5 pickle: %x", b[4:6])
	}
	v, err := DecodePickle(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"_permanent": true, "user": "bob", "tup": []any{int64(1), "x"}, DefaultOwnerKey: "u1"}
	m := v.(map[string]any)
	if len(m) != 4 || m["user"] != "bob" || m[DefaultOwnerKey] != "u1" || m["_permanent"] != true {
		t.Fatalf("dict %v, want %v", m, want)
	}
	if countOf(t, dir) != 1 {
		t.Fatalf("count %d after one new file", countOf(t, dir))
	}
	// Overwrite: no count change. Delete: minus one; again: no change.
	if err := s.Save(t.Context(), sid, rec); err != nil || countOf(t, dir) != 1 {
		t.Fatalf("count %d after overwrite (%v)", countOf(t, dir), err)
	}
	got, err := s.Load(t.Context(), sid)
	if err != nil || got.UserID != "u1" || len(got.Values) != 3 || !got.Expires.Equal(time.Unix(1740001800, 0)) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// Expiry is checked as cachelib does: valid while expiry >= now.
	now = time.Unix(1740001800, 0)
	if _, err := s.Load(t.Context(), sid); err != nil {
		t.Fatalf("at the expiry second: %v", err)
	}
	now = time.Unix(1740001800, 1)
	if _, err := s.Load(t.Context(), sid); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("after expiry: %v", err)
	}
	now = time.Unix(1740000000, 0)
	if err := s.Delete(t.Context(), sid); err != nil || countOf(t, dir) != 0 {
		t.Fatalf("count %d after delete (%v)", countOf(t, dir), err)
	}
	if err := s.Delete(t.Context(), sid); err != nil || countOf(t, dir) != 0 {
		t.Fatalf("count %d after second delete (%v)", countOf(t, dir), err)
	}
	// No temporary files are left behind.
	if got := sessionFiles(t, dir); len(got) != 0 {
		t.Fatalf("files left: %v", got)
	}
}

func TestFileStorePrefixAndRecount(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c.__wz_cache"} {
		os.WriteFile(filepath.Join(dir, n), []byte("\x00\x00\x00\x00\x80\x05N."), 0o600)
	}
	s, err := NewFileStore(dir, FileStoreOptions{KeyPrefix: "app1:"})
	if err != nil {
		t.Fatal(err)
	}
	if c := countOf(t, dir); c != 2 {
		t.Fatalf("recount %d, want 2 (temporary files do not count)", c)
	}
	if err := s.Save(t.Context(), "k", &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName("app1:k"))); err != nil {
		t.Fatal(err)
	}
	// Counting off (cachelib threshold 0): no count file is touched.
	dir2 := t.TempDir()
	s2, err := NewFileStore(dir2, FileStoreOptions{Threshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	s2.Save(t.Context(), "k", &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(time.Hour)})
	if _, err := os.Stat(filepath.Join(dir2, FileName(countFile))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("count file with counting off: %v", err)
	}
}

func TestFileStorePrune(t *testing.T) {
	now := time.Unix(1740000000, 0)
	s, dir := newFS(t, FileStoreOptions{Threshold: 3, Now: func() time.Time { return now }})
	save := func(key string, exp time.Duration) {
		t.Helper()
		if err := s.Save(t.Context(), key, &seshat.Record{Values: map[string][]byte{"k": []byte(`"` + key + `"`)}, Expires: now.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	save("a", 10*time.Second)
	save("b", 50*time.Second)
	save("c", 30*time.Second)
	save("d", 40*time.Second) // count 3 is not over 3: no prune
	if c := countOf(t, dir); c != 4 {
		t.Fatalf("count %d", c)
	}
	now = now.Add(20 * time.Second) // "a" has expired
	save("e", time.Hour)            // count 4 > 3: expired "a" goes first
	if c := countOf(t, dir); c != 4 {
		t.Fatalf("count %d", c)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName("session:a"))); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("expired session not pruned")
	}
	save("f", time.Hour) // nothing expired: the soonest to expire ("c") goes
	if _, err := s.Load(t.Context(), "c"); !errors.Is(err, seshat.ErrNoRecord) {
		t.Fatalf("c survived: %v", err)
	}
	for _, k := range []string{"b", "d", "e", "f"} {
		if _, err := s.Load(t.Context(), k); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if c := countOf(t, dir); c != 4 || len(sessionFiles(t, dir)) != 4 {
		t.Fatalf("count %d, files %d", c, len(sessionFiles(t, dir)))
	}
	// DeleteExpired removes and uncounts expired files.
	now = now.Add(45 * time.Second) // b (50s) and d (40s) expired
	n, err := s.DeleteExpired(t.Context())
	if err != nil || n != 2 || countOf(t, dir) != 2 {
		t.Fatalf("DeleteExpired = %d, %v; count %d", n, err, countOf(t, dir))
	}
}

func TestFileStoreKeysAndDir(t *testing.T) {
	s, _ := newFS(t, FileStoreOptions{})
	for _, k := range []string{"", "a\x00b", "a\nb", strings.Repeat("x", MaxKeyLen+1), "\xff", "a\u0085b"} {
		if err := s.Save(t.Context(), k, &seshat.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Save(%q) = %v", k, err)
		}
		if _, err := s.Load(t.Context(), k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Load(%q) = %v", k, err)
		}
	}
	// "../x" is a valid key, and still names a file inside the directory.
	if err := s.Save(t.Context(), "../../etc/x", &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	noPrefix, _ := newFS(t, FileStoreOptions{KeyPrefix: "__wz_cache"})
	if err := noPrefix.Save(t.Context(), "_count", &seshat.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("a key naming the count file: %v", err)
	}
	open := t.TempDir()
	os.Chmod(open, 0o777)
	if _, err := NewFileStore(open, FileStoreOptions{}); err == nil {
		t.Error("world-writable directory accepted")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := NewFileStore(f, FileStoreOptions{}); err == nil {
		t.Error("a file accepted as the directory")
	}
}

func TestFileStoreFlaskFiles(t *testing.T) {
	now := time.Unix(1740000000, 0)
	s, dir := newFS(t, FileStoreOptions{Now: func() time.Time { return now }})
	var flaskFile []byte
	var sid string
	for _, v := range loadVectors(t).Vectors {
		if v.Kind == "server.filesystem.write" {
			flaskFile = hexField(t, &v, "file_hex")
			v.Field("cookie_value", &sid)
		}
	}
	os.WriteFile(filepath.Join(dir, FileName("session:"+sid)), flaskFile, 0o600)
	rec, err := s.Load(t.Context(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Values) != 10 || string(rec.Values["raw"]) != `{" b":"AP8="}` || rec.UserID != "" {
		t.Fatalf("record %v", rec)
	}
	// A merge keeps Python's key order and the untouched values' bytes.
	err = s.Merge(t.Context(), sid, &seshat.Change{
		Set:     map[string][]byte{"n": []byte("4"), "added": []byte(`"new"`)},
		Delete:  []string{"none"},
		Expires: now.Add(1800 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := readFile(t, dir, FileName("session:"+sid))
	d, err := Decoder{KeepOrder: true}.Decode(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range d.(OrderedDict) {
		keys = append(keys, it.Key)
	}
	if got := strings.Join(keys, ","); got != "_permanent,user,n,f,ok,items,nested,tup,raw,added" {
		t.Fatalf("order after merge: %s", got)
	}
	enc, _ := EncodePickle(d, ProtocolFile)
	if !bytes.Equal(enc, b[4:]) {
		t.Fatal("stored pickle is not the canonical encoding")
	}
	never, _ := EncodePickle(OrderedDict{{"a", int64(1)}}, 5)
	// A file holding a datetime fails loudly, naming the opcode.
	var dtPickle []byte
	for _, v := range loadVectors(t).Vectors {
		if v.Name == "pickle/p5/datetime" {
			dtPickle = hexField(t, &v, "pickle_hex")
		}
	}
	bad := append([]byte{0, 0, 0, 0}, dtPickle...)
	os.WriteFile(filepath.Join(dir, FileName("session:dt")), bad, 0o600)
	if _, err := s.Load(t.Context(), "dt"); !errors.Is(err, ErrUnsupportedOpcode) || !strings.Contains(err.Error(), "STACK_GLOBAL") || errors.Is(err, seshat.ErrCorruptRecord) {
		t.Fatalf("Load of a datetime pickle: %v", err)
	}
	// Files that are no pickled dict are corrupt (a fresh session).
	list, _ := EncodePickle([]any{int64(1)}, 5)
	for name, content := range map[string][]byte{
		"truncated": {1, 2},
		"garbage":   []byte("\x00\x00\x00\x00not a pickle"),
		"cut":       EncodeFile(0, never[:len(never)-1]),
		"list":      EncodeFile(0, list),
	} {
		os.WriteFile(filepath.Join(dir, FileName("session:"+name)), content, 0o600)
		if _, err := s.Load(t.Context(), name); !errors.Is(err, seshat.ErrCorruptRecord) {
			t.Errorf("Load of a %s file: %v", name, err)
		}
	}
	// Expiry 0 means "never" to cachelib.
	os.WriteFile(filepath.Join(dir, FileName("session:never")), EncodeFile(0, never), 0o600)
	if rec, err := s.Load(t.Context(), "never"); err != nil || !rec.Expires.IsZero() {
		t.Fatalf("expiry 0: %v %v", rec, err)
	}
}
