package flasksession

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
)

// cachelib FileSystemCache's names.
const (
	// countFile is the key of cachelib's management file that counts the
	// entries; its file is named by the MD5 of this key (no prefix).
	countFile = "__wz_cache_count"
	// tmpSuffix ends the names of files being written; cachelib ignores
	// such files when it counts and prunes.
	tmpSuffix = ".__wz_cache"
	// DefaultKeyPrefix is Flask-Session's SESSION_KEY_PREFIX default.
	DefaultKeyPrefix = "session:"
	// DefaultThreshold is Flask-Session's SESSION_FILE_THRESHOLD default.
	DefaultThreshold = 500
)

// FileStoreOptions configure a FileStore. Set them to the Flask app's
// values.
type FileStoreOptions struct {
	// KeyPrefix is SESSION_KEY_PREFIX; "" means "session:".
	KeyPrefix string
	// Threshold is SESSION_FILE_THRESHOLD, the number of sessions above
	// which a write first deletes expired sessions and then the sessions
	// closest to expiry, as cachelib does; 0 means 500. A negative value is
	// cachelib's threshold 0: no counting and no pruning.
	Threshold int
	// Mode is SESSION_FILE_MODE; 0 means 0600.
	Mode fs.FileMode
	// OwnerKey and Limits are passed to the Codec (see there).
	OwnerKey string
	Limits   Limits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FileStore is a seshat.Store over the directory of Flask-Session's
// SESSION_TYPE="filesystem" (a cachelib FileSystemCache), shared with a
// Flask app. See the package documentation for the layout.
//
// Every write goes to a temporary file ("tmp*.__wz_cache", which cachelib
// ignores) that is synced, given the configured mode and renamed over the
// session file, so readers on either side see the old or the new session,
// never a torn one.
//
// It implements seshat.Merger, seshat.Toucher and seshat.Cleaner. Merges,
// touches and writes to one session are serialized within the process;
// across processes (other seshat processes, and the Flask app, which always
// rewrites whole records) the last writer wins. It cannot list sessions:
// file names are hashes from which the session id cannot be recovered.
type FileStore struct {
	dir       string
	prefix    string
	threshold int // 0: no counting (cachelib threshold 0)
	mode      fs.FileMode
	codec     Codec
	now       func() time.Time
	countName string
	stripes   [256]sync.Mutex // by the first byte of the file name's hash
	countMu   sync.Mutex
}

var (
	_ seshat.Store   = (*FileStore)(nil)
	_ seshat.Merger  = (*FileStore)(nil)
	_ seshat.Toucher = (*FileStore)(nil)
	_ seshat.Cleaner = (*FileStore)(nil)
)

// NewFileStore opens the session directory dir (SESSION_FILE_DIR),
// creating it with mode 0700 when missing. It refuses a directory that
// anyone may write to, since whoever can write there can plant sessions.
// Like cachelib's constructor, it recounts the session files and rewrites
// the count file (unless counting is off).
func NewFileStore(dir string, opts FileStoreOptions) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("flasksession: session directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("flasksession: session directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("flasksession: %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("flasksession: session directory %s is writable by others", dir)
	}
	s := &FileStore{
		dir:       dir,
		prefix:    opts.KeyPrefix,
		threshold: opts.Threshold,
		mode:      opts.Mode,
		codec:     Codec{Protocol: ProtocolFile, OwnerKey: opts.OwnerKey, Limits: opts.Limits},
		now:       opts.Now,
		countName: FileName(countFile),
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	switch {
	case s.threshold == 0:
		s.threshold = DefaultThreshold
	case s.threshold < 0:
		s.threshold = 0
	}
	if s.mode == 0 {
		s.mode = 0o600
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.threshold > 0 {
		names, err := s.listDir()
		if err != nil {
			return nil, err
		}
		if err := s.writeCount(len(names)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// FileName returns the name cachelib gives the file of cache key key: the
// hex MD5 of its UTF-8 bytes. A session's cache key is the key prefix
// followed by the session id.
func FileName(key string) string {
	sum := md5.Sum([]byte(key))
	return hex.EncodeToString(sum[:])
}

// EncodeFile returns the content of a cachelib cache file: the expiry as a
// little-endian uint32 of Unix seconds (0 = never), then the pickle.
func EncodeFile(expires uint32, pickled []byte) []byte {
	b := make([]byte, 4, 4+len(pickled))
	binary.LittleEndian.PutUint32(b, expires)
	return append(b, pickled...)
}

// fileExpiry converts a record's expiry to cachelib's header: Unix seconds,
// rounded up so that a session never expires before its time (cachelib's
// own int(time()) + timeout rounds down; the difference is under a
// second), at most 2^32-1.
func fileExpiry(t time.Time) uint32 {
	u := t.Unix()
	if t.Nanosecond() != 0 {
		u++
	}
	if u > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(u)
}

// expired reports whether a header value is past, as cachelib's
// "pickle_time == 0 or pickle_time >= time()" check says.
func expired(exp uint32, now time.Time) bool {
	return exp != 0 && time.Unix(int64(exp), 0).Before(now)
}

func (s *FileStore) path(name string) string { return filepath.Join(s.dir, name) }

// name returns the file name of a store key, after validating the key.
func (s *FileStore) name(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if s.prefix+key == countFile {
		return "", fmt.Errorf("%w: names cachelib's count file", ErrInvalidKey)
	}
	return FileName(s.prefix + key), nil
}

func (s *FileStore) stripe(name string) *sync.Mutex {
	b, _ := hex.DecodeString(name[:2])
	return &s.stripes[b[0]]
}

func unavailable(op string, err error) error {
	return fmt.Errorf("flasksession: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
}

// read returns the header and pickle of a file; ok is false when the file
// does not exist.
func (s *FileStore) read(name string) (exp uint32, pickled []byte, ok bool, err error) {
	f, err := os.Open(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, unavailable("read", err)
	}
	defer f.Close()
	max := s.codec.Limits.withDefaults().MaxSize
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+5))
	if err != nil {
		return 0, nil, false, unavailable("read", err)
	}
	if len(b) < 4 {
		return 0, nil, false, fmt.Errorf("flasksession: %w: session file %s is truncated", seshat.ErrCorruptRecord, name)
	}
	if len(b) > max+4 {
		return 0, nil, false, &PickleError{Kind: ErrLimit, Offset: -1, Msg: "session file exceeds MaxSize"}
	}
	return binary.LittleEndian.Uint32(b), b[4:], true, nil
}

// Load returns the session under key, or seshat.ErrNoRecord when there is
// no file or it has expired. A truncated or undecodable file is an error
// wrapping seshat.ErrCorruptRecord; a valid pickle holding values the model
// cannot represent (a datetime or another object, see the package
// documentation) is an error of its own (see Codec).
func (s *FileStore) Load(ctx context.Context, key string) (*seshat.Record, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	exp, pickled, ok, err := s.read(name)
	if err != nil {
		return nil, err
	}
	if !ok || expired(exp, s.now()) {
		return nil, seshat.ErrNoRecord
	}
	values, user, err := s.codec.Decode(pickled)
	if err != nil {
		return nil, err
	}
	rec := &seshat.Record{Values: values, UserID: user}
	if exp != 0 {
		rec.Expires = time.Unix(int64(exp), 0)
	}
	return rec, nil
}

// Save writes rec under key. A record whose expiry has passed is deleted
// instead.
func (s *FileStore) Save(ctx context.Context, key string, rec *seshat.Record) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	mu := s.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	if !rec.Expires.After(s.now()) {
		return s.remove(name)
	}
	pickled, err := s.codec.Encode(rec.Values, rec.UserID)
	if err != nil {
		return err
	}
	return s.set(name, EncodeFile(fileExpiry(rec.Expires), pickled))
}

// Delete removes the session under key.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	mu := s.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	return s.remove(name)
}

// Merge applies ch to the session under key in one read-modify-write,
// serialized with every other write to that session in this process.
func (s *FileStore) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	mu := s.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	exp, old, ok, err := s.read(name)
	if err != nil {
		return err
	}
	if !ok || expired(exp, s.now()) {
		if !ch.Create {
			return seshat.ErrSessionGone
		}
		old = nil
	}
	pickled, err := s.codec.Merge(old, ch)
	if err != nil {
		return err
	}
	if !ch.Expires.After(s.now()) {
		return s.remove(name)
	}
	return s.set(name, EncodeFile(fileExpiry(ch.Expires), pickled))
}

// Touch moves the expiry of the session under key (rewriting its file).
func (s *FileStore) Touch(ctx context.Context, key string, expires time.Time) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	mu := s.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	exp, pickled, ok, err := s.read(name)
	if err != nil {
		return err
	}
	if !ok || expired(exp, s.now()) {
		return seshat.ErrNoRecord
	}
	if !expires.After(s.now()) {
		return s.remove(name)
	}
	return s.writeFile(name, EncodeFile(fileExpiry(expires), pickled))
}

// DeleteExpired removes the files of expired sessions, as cachelib's
// _remove_expired does, and returns how many it removed.
func (s *FileStore) DeleteExpired(ctx context.Context) (int, error) {
	names, err := s.listDir()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		mu := s.stripe(name)
		mu.Lock()
		removed, err := s.removeIfExpired(name, s.now())
		mu.Unlock()
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// Close does nothing: the store holds no resources.
func (s *FileStore) Close() error { return nil }

// set writes a session file as cachelib's set does: prune when over the
// threshold, write, and count a file that did not exist. The caller holds
// the file's stripe.
func (s *FileStore) set(name string, content []byte) error {
	if s.threshold > 0 {
		if err := s.prune(name); err != nil {
			return err
		}
	}
	_, statErr := os.Lstat(s.path(name))
	overwrite := statErr == nil
	if err := s.writeFile(name, content); err != nil {
		return err
	}
	if !overwrite && s.threshold > 0 {
		return s.addCount(1)
	}
	return nil
}

// writeFile writes content to a temporary file in the directory, syncs it,
// gives it the configured mode and renames it over the session file.
func (s *FileStore) writeFile(name string, content []byte) (err error) {
	f, err := os.CreateTemp(s.dir, "tmp*"+tmpSuffix)
	if err != nil {
		return unavailable("write", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(content); err != nil {
		return unavailable("write", err)
	}
	if err = f.Sync(); err != nil {
		return unavailable("write", err)
	}
	if err = f.Chmod(s.mode); err != nil {
		return unavailable("write", err)
	}
	if err = f.Close(); err != nil {
		return unavailable("write", err)
	}
	if err = os.Rename(tmp, s.path(name)); err != nil {
		return unavailable("write", err)
	}
	return nil
}

// remove deletes a session file and uncounts it. The caller holds its
// stripe.
func (s *FileStore) remove(name string) error {
	err := os.Remove(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return unavailable("delete", err)
	}
	if s.threshold > 0 {
		return s.addCount(-1)
	}
	return nil
}

func (s *FileStore) removeIfExpired(name string, now time.Time) (bool, error) {
	exp, ok, err := s.readHeader(name)
	if err != nil || !ok || !expired(exp, now) {
		return false, nil // cachelib logs an unreadable file and leaves it
	}
	if err := s.remove(name); err != nil {
		return false, err
	}
	return true, nil
}

// listDir returns the names cachelib counts: every regular file but the
// count file and files being written.
func (s *FileStore) listDir() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, unavailable("list", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if n == s.countName || strings.HasSuffix(n, tmpSuffix) || !e.Type().IsRegular() {
			continue
		}
		names = append(names, n)
	}
	return names, nil
}

// prune is cachelib's _prune: when the count is over the threshold, remove
// expired files, then, if still over, the files that expire first until it
// is not. held is the file whose stripe the caller holds; files of other
// busy stripes are skipped rather than waited for.
func (s *FileStore) prune(held string) error {
	over := func() (bool, error) {
		n, err := s.readCount()
		return n > s.threshold, err
	}
	if o, err := over(); err != nil || !o {
		return err
	}
	now := s.now()
	names, err := s.listDir()
	if err != nil {
		return err
	}
	type entry struct {
		exp  uint32
		name string
	}
	var live []entry
	for _, name := range names {
		unlock, ok := s.tryStripe(name, held)
		if !ok {
			continue
		}
		removed, err := s.removeIfExpired(name, now)
		if err == nil && !removed {
			if exp, ok, rerr := s.readHeader(name); rerr == nil && ok {
				live = append(live, entry{exp, name})
			}
		}
		unlock()
		if err != nil {
			return err
		}
	}
	if o, err := over(); err != nil || !o {
		return err
	}
	slices.SortStableFunc(live, func(a, b entry) int {
		switch {
		case a.exp < b.exp:
			return -1
		case a.exp > b.exp:
			return 1
		}
		return 0
	})
	for _, e := range live {
		unlock, ok := s.tryStripe(e.name, held)
		if !ok {
			continue
		}
		err := s.remove(e.name)
		unlock()
		if err != nil {
			return err
		}
		if o, err := over(); err != nil || !o {
			return err
		}
	}
	return nil
}

// tryStripe locks the stripe of name unless the caller already holds it
// (the stripe of held) or another goroutine does.
func (s *FileStore) tryStripe(name, held string) (unlock func(), ok bool) {
	mu := s.stripe(name)
	if mu == s.stripe(held) {
		return func() {}, true
	}
	if !mu.TryLock() {
		return nil, false
	}
	return mu.Unlock, true
}

// readHeader returns the expiry header of a file; ok is false when the file
// does not exist.
func (s *FileStore) readHeader(name string) (exp uint32, ok bool, err error) {
	f, err := os.Open(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	var h [4]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, false, err
	}
	return binary.LittleEndian.Uint32(h[:]), true, nil
}

// readCount returns the count file's number, 0 when it is missing or
// unreadable (cachelib's "self.get(count_file) or 0").
func (s *FileStore) readCount() (int, error) {
	exp, pickled, ok, err := s.read(s.countName)
	if errors.Is(err, seshat.ErrStoreUnavailable) {
		return 0, err
	}
	if err != nil {
		return 0, nil
	}
	if !ok || expired(exp, s.now()) {
		return 0, nil
	}
	v, err := DecodePickle(pickled)
	if err != nil {
		return 0, nil
	}
	n, ok := v.(int64)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, nil
	}
	return int(n), nil
}

func (s *FileStore) writeCount(n int) error {
	pickled, err := EncodePickle(int64(n), ProtocolFile)
	if err != nil {
		return err
	}
	return s.writeFile(s.countName, EncodeFile(0, pickled))
}

// addCount is cachelib's _update_count(delta=...).
func (s *FileStore) addCount(delta int) error {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	n, err := s.readCount()
	if err != nil {
		return err
	}
	return s.writeCount(n + delta)
}
