package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sweep"
)

// DefaultCleanupInterval is how often the background cleaner removes
// expired sessions when [Options].CleanupInterval is zero.
const DefaultCleanupInterval = 10 * time.Minute

const (
	keyLen        = 64      // hex SHA-256
	formatVersion = 1       // "v" in every session file
	lockStripes   = 256     // per-key locks, selected by the key's first byte
	tempPrefix    = ".tmp-" // temporary files; '.' never starts a key
	usersDirName  = "users"
	// staleTempAge is how old a temporary file must be before the cleaner
	// takes it for a crash's leftover rather than a write in progress.
	staleTempAge = time.Hour
	// walkBatch bounds the directory entries held in memory at once.
	walkBatch = 1024
)

var (
	// ErrInvalidKey is returned, before any file is touched, for a key that
	// is not exactly 64 lowercase hexadecimal characters.
	ErrInvalidKey = errors.New("filestore: invalid store key (want 64 lowercase hex characters)")
	// ErrCorrupt is returned by Load, Merge and Touch for a session file that
	// is not in this package's format (edited by hand, written by something
	// else). Iterate, ListByUser and DeleteExpired skip such files.
	// It wraps [seshat.ErrCorruptRecord], so the middleware starts a fresh
	// session rather than answering 503.
	ErrCorrupt = fmt.Errorf("filestore: %w", seshat.ErrCorruptRecord)
)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// CleanupInterval is how often a background goroutine deletes the files
	// of expired sessions; zero means [DefaultCleanupInterval], a negative
	// value starts no goroutine (call [Store.DeleteExpired] yourself).
	// Expired sessions are never returned either way.
	CleanupInterval time.Duration
	// NoSync skips every fsync. Writes stay atomic (a reader never sees a
	// torn file) but a power loss or kernel crash may lose recent writes and
	// bring back recently deleted sessions. For tests and tmpfs only.
	NoSync bool
	// Now is the clock deciding what has expired; default time.Now.
	Now func() time.Time
	// Logger receives the errors of the background cleaner; default
	// slog.Default().
	Logger *slog.Logger
}

// Store keeps sessions as files in one directory; see the package
// documentation for the layout and its guarantees. It is safe for
// concurrent use.
type Store struct {
	dir    string // absolute, cleaned
	users  string // dir/users
	noSync bool
	now    func() time.Time
	log    *slog.Logger

	// locks[i] is a mutex (a one-slot channel, so waiting honours the
	// context) for every key whose first byte is i.
	locks [lockStripes]chan struct{}

	ctx       context.Context // cancelled by Close; stops the cleaner
	cancel    context.CancelFunc
	done      chan struct{} // closed when the cleaner has returned
	closeOnce sync.Once
}

// New opens the store in dir, creating dir (mode 0700) and its users
// folder when missing. It refuses a dir that group or others may write to,
// and starts the background cleaner unless opts.CleanupInterval is negative.
func New(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("filestore: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: create directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("filestore: %s is not a directory", abs)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("filestore: directory %s is writable by group or others (mode %v): anyone who can write there can plant sessions; chmod 0700 it", abs, fi.Mode().Perm())
	}
	users := filepath.Join(abs, usersDirName)
	if err := os.Mkdir(users, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("filestore: create users directory: %w", err)
	}
	s := &Store{dir: abs, users: users, noSync: opts.NoSync, now: opts.Now, log: opts.Logger, done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for i := range s.locks {
		s.locks[i] = make(chan struct{}, 1)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	interval := opts.CleanupInterval
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	if interval > 0 {
		go sweep.Every(s.ctx, interval, s.done, s.DeleteExpired, func(err error) {
			s.log.Warn("filestore: cleanup of expired sessions failed", "dir", s.dir, "err", err.Error())
		})
	} else {
		close(s.done)
	}
	return s, nil
}

// Dir returns the absolute path of the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close stops the background cleaner (interrupting a cleanup in progress)
// and waits for it to return. It is safe to call more than once. The files
// stay on disk and the Store stays usable; only the cleaner is gone.
func (s *Store) Close() error {
	s.closeOnce.Do(s.cancel)
	<-s.done
	return nil
}

// validKey reports whether key has the one shape this store accepts.
func validKey(key string) bool {
	if len(key) != keyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !validKey(key) {
		// The key itself stays out of the message: it may be huge, or be
		// someone's raw session id.
		return fmt.Errorf("%w: got %d bytes", ErrInvalidKey, len(key))
	}
	return nil
}

func unhex(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c-'a') + 10
}

// stripe picks the lock of a valid key from its first byte; keys are
// SHA-256 hashes, so the 256 locks are evenly used.
func stripe(key string) int { return unhex(key[0])<<4 | unhex(key[1]) }

func (s *Store) lock(ctx context.Context, key string) (int, error) {
	i := stripe(key)
	select {
	case s.locks[i] <- struct{}{}:
		return i, nil
	default:
	}
	select {
	case s.locks[i] <- struct{}{}:
		return i, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("filestore: waiting for the session lock: %w", ctx.Err())
	}
}

func (s *Store) unlock(i int) { <-s.locks[i] }

func (s *Store) path(key string) string { return filepath.Join(s.dir, key) }

func userHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:])
}

// unavailable marks a filesystem failure as a failure of the engine, so the
// middleware answers 503 instead of starting a fresh session.
func unavailable(op string, err error) error {
	return fmt.Errorf("filestore: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
}

// fileRecord is the JSON form of a session file.
type fileRecord struct {
	V       int                        `json:"v"`
	Expires time.Time                  `json:"expires"`
	User    string                     `json:"user,omitempty"`
	Values  map[string]json.RawMessage `json:"values"`
}

func (r *fileRecord) live(now time.Time) bool { return r.Expires.After(now) }

func encodeRecord(r *fileRecord) ([]byte, error) {
	r.V = formatVersion
	r.Expires = r.Expires.UTC()
	if r.Values == nil {
		r.Values = map[string]json.RawMessage{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("filestore: encode session: %w", err)
	}
	return b, nil
}

// checkValues refuses values that are not JSON before they reach a file
// (where they are embedded as JSON).
func checkValues(values map[string][]byte) error {
	for k, v := range values {
		if !json.Valid(v) {
			return fmt.Errorf("filestore: value of session key %q is not valid JSON", k)
		}
	}
	return nil
}

// read returns the session file at path, nil when there is none.
func (s *Store) read(path string) (*fileRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, unavailable("read", err)
	}
	r := new(fileRecord)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCorrupt, filepath.Base(path), err)
	}
	if r.V != formatVersion {
		return nil, fmt.Errorf("%w %s: format version %d", ErrCorrupt, filepath.Base(path), r.V)
	}
	return r, nil
}

// write replaces the file at path atomically: temporary file in the same
// directory, fsync, rename, fsync of the directory.
func (s *Store) write(path string, data []byte) error {
	f, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return unavailable("write", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && !s.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return unavailable("write", err)
	}
	return s.syncDir(s.dir)
}

// syncDir makes the entries of dir (a rename, a new or removed file)
// durable.
func (s *Store) syncDir(dir string) error {
	if s.noSync || runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return unavailable("sync directory", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return unavailable("sync directory", err)
	}
	return nil
}

// remove deletes the session file at path; a missing file is no error.
func remove(path string) (removed bool, err error) {
	err = os.Remove(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, unavailable("remove", err)
}

// addMarker records in the user index that key belongs to user, durably,
// before the session file says so.
func (s *Store) addMarker(user, key string) error {
	ud := filepath.Join(s.users, userHash(user))
	p := filepath.Join(ud, key)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	for try := 0; ; try++ {
		created := false
		if err := os.Mkdir(ud, 0o700); err == nil {
			created = true
		} else if !errors.Is(err, fs.ErrExist) {
			return unavailable("user index", err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o600)
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue // a cleanup removed the (empty) user folder meanwhile
		}
		if err != nil {
			return unavailable("user index", err)
		}
		f.Close()
		if err := s.syncDir(ud); err != nil {
			return err
		}
		if created {
			return s.syncDir(s.users)
		}
		return nil
	}
}

// removeMarker drops key from user's index. It is best effort: a marker
// left behind is ignored by listings and pruned by DeleteExpired.
func (s *Store) removeMarker(user, key string) {
	if user != "" {
		os.Remove(filepath.Join(s.users, userHash(user), key))
	}
}

func toRecord(r *fileRecord) *seshat.Record {
	values := make(map[string][]byte, len(r.Values))
	for k, v := range r.Values {
		values[k] = v
	}
	return &seshat.Record{Values: values, Expires: r.Expires, UserID: r.User}
}

// Load returns the session stored under key, or [seshat.ErrNoRecord] when
// there is none or it has expired (cleaned up or not). It takes no lock:
// writes replace files atomically.
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := s.read(s.path(key))
	if err != nil {
		return nil, err
	}
	if r == nil || !r.live(s.now()) {
		return nil, seshat.ErrNoRecord
	}
	return toRecord(r), nil
}

// Save writes rec under key, replacing the session there (values, expiry
// and owner), and moves the session in the user index.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if rec == nil {
		return errors.New("filestore: Save of a nil record")
	}
	if err := checkValues(rec.Values); err != nil {
		return err
	}
	fr := &fileRecord{Expires: rec.Expires, User: rec.UserID, Values: make(map[string]json.RawMessage, len(rec.Values))}
	for k, v := range rec.Values {
		fr.Values[k] = v
	}
	data, err := encodeRecord(fr)
	if err != nil {
		return err
	}
	i, err := s.lock(ctx, key)
	if err != nil {
		return err
	}
	defer s.unlock(i)
	path := s.path(key)
	prev := ""
	if old, err := s.read(path); err == nil && old != nil {
		prev = old.User
	}
	if rec.UserID != "" {
		if err := s.addMarker(rec.UserID, key); err != nil {
			return err
		}
	}
	if err := s.write(path, data); err != nil {
		return err
	}
	if prev != rec.UserID {
		s.removeMarker(prev, key)
	}
	return nil
}

// Delete removes the session under key and its user-index marker; a missing
// session is not an error. The removal is fsynced, so a crash cannot bring
// back a session that was logged out.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	i, err := s.lock(ctx, key)
	if err != nil {
		return err
	}
	defer s.unlock(i)
	path := s.path(key)
	owner := ""
	if old, err := s.read(path); err == nil && old != nil {
		owner = old.User
	}
	removed, err := remove(path)
	if err != nil {
		return err
	}
	if removed {
		if err := s.syncDir(s.dir); err != nil {
			return err
		}
	}
	s.removeMarker(owner, key)
	return nil
}

// Merge applies ch to the session under key as one read-modify-write under
// the key's lock: it removes ch.Delete, then sets ch.Set (so a key in both
// ends up set), sets the expiry, and the owner when ch.SetUser. A missing or
// expired session is created from ch when ch.Create, and otherwise left
// alone with [seshat.ErrSessionGone]. The lock is per process: see the
// package documentation for several processes on one directory.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ch == nil {
		return errors.New("filestore: Merge of a nil change")
	}
	if err := checkValues(ch.Set); err != nil {
		return err
	}
	i, err := s.lock(ctx, key)
	if err != nil {
		return err
	}
	defer s.unlock(i)
	path := s.path(key)
	old, err := s.read(path)
	if err != nil {
		return err
	}
	prev := ""
	if old != nil {
		prev = old.User
	}
	r := &fileRecord{}
	if old != nil && old.live(s.now()) {
		r.Values, r.User = old.Values, old.User
	} else if !ch.Create {
		return seshat.ErrSessionGone
	}
	if r.Values == nil {
		r.Values = make(map[string]json.RawMessage, len(ch.Set))
	}
	for _, k := range ch.Delete {
		delete(r.Values, k)
	}
	for k, v := range ch.Set {
		r.Values[k] = v
	}
	if ch.SetUser {
		r.User = ch.UserID
	}
	r.Expires = ch.Expires
	data, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if r.User != "" {
		if err := s.addMarker(r.User, key); err != nil {
			return err
		}
	}
	if err := s.write(path, data); err != nil {
		return err
	}
	if prev != r.User {
		s.removeMarker(prev, key)
	}
	return nil
}

// Touch sets the expiry of the session under key, rewriting its file under
// the key's lock, or returns [seshat.ErrNoRecord] when there is no live
// session there.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	i, err := s.lock(ctx, key)
	if err != nil {
		return err
	}
	defer s.unlock(i)
	path := s.path(key)
	r, err := s.read(path)
	if err != nil {
		return err
	}
	if r == nil || !r.live(s.now()) {
		return seshat.ErrNoRecord
	}
	r.Expires = expires
	data, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return s.write(path, data)
}

// Take removes the value name from the live session under key and returns
// it, rewriting the file under the key's lock like Merge: of concurrent
// Takes of one value in this process, the first to get the lock takes it
// and the others find it gone. The expiry, the owner and the other values
// stay. The file is first read without the lock, so a Take that finds
// nothing (no live session, or no such value) writes nothing and waits for
// no one. The lock is per process: as with Merge, two processes sharing the
// directory may both take one value (see the package documentation).
func (s *Store) Take(ctx context.Context, key, name string) (value []byte, ok bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	path := s.path(key)
	if _, ok, err := s.find(path, name); err != nil || !ok {
		return nil, false, err
	}
	i, err := s.lock(ctx, key)
	if err != nil {
		return nil, false, err
	}
	defer s.unlock(i)
	r, ok, err := s.find(path, name)
	if err != nil || !ok {
		return nil, false, err
	}
	value = r.Values[name]
	delete(r.Values, name)
	data, err := encodeRecord(r)
	if err != nil {
		return nil, false, err
	}
	if err := s.write(path, data); err != nil {
		return nil, false, err
	}
	return value, true, nil
}

// find reads the session file at path and reports whether it is live and
// holds name.
func (s *Store) find(path, name string) (*fileRecord, bool, error) {
	r, err := s.read(path)
	if err != nil || r == nil || !r.live(s.now()) {
		return nil, false, err
	}
	_, ok := r.Values[name]
	return r, ok, nil
}

// walk calls fn with the names in dir, a batch at a time, until fn fails or
// ctx is done. A missing dir has no names. Entries created, removed or
// replaced during the walk may or may not be seen.
func (s *Store) walk(ctx context.Context, dir string, fn func(name string) error) error {
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return unavailable("list", err)
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(walkBatch)
		for _, name := range names {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if ferr := fn(name); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return unavailable("list", err)
		}
	}
}

// ListByUser returns the live sessions owned by userID. It reads the user's
// index folder and each of the user's session files, never the others.
// Anonymous sessions are not indexed: ListByUser("") returns nothing.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	if userID == "" {
		return nil, nil
	}
	now := s.now()
	var out []seshat.SessionInfo
	err := s.walk(ctx, filepath.Join(s.users, userHash(userID)), func(name string) error {
		if !validKey(name) {
			return nil
		}
		r, err := s.read(s.path(name))
		if errors.Is(err, ErrCorrupt) {
			return nil
		}
		if err != nil {
			return err
		}
		if r != nil && r.User == userID && r.live(now) {
			out = append(out, seshat.SessionInfo{Key: name, UserID: userID, Expires: r.Expires})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeUser deletes every session owned by userID, found through the user
// index, and returns how many of them were live. RevokeUser("") deletes
// nothing (anonymous sessions have no owner to revoke).
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	now := s.now()
	ud := filepath.Join(s.users, userHash(userID))
	n, removed := 0, false
	err := s.walk(ctx, ud, func(name string) error {
		if !validKey(name) {
			return nil
		}
		i, err := s.lock(ctx, name)
		if err != nil {
			return err
		}
		defer s.unlock(i)
		path := s.path(name)
		r, err := s.read(path)
		if errors.Is(err, ErrCorrupt) {
			return nil
		}
		if err != nil {
			return err
		}
		if r != nil && r.User == userID {
			ok, err := remove(path)
			if err != nil {
				return err
			}
			removed = removed || ok
			if ok && r.live(now) {
				n++
			}
		}
		os.Remove(filepath.Join(ud, name))
		return nil
	})
	if removed {
		if serr := s.syncDir(s.dir); err == nil {
			err = serr
		}
	}
	os.Remove(ud) // only succeeds when empty
	return n, err
}

// Iterate calls fn for every live session, stopping at fn's first error or
// when ctx is done. It reads the directory a batch of names at a time and
// every session file, so it costs one small read per session; a session
// created or deleted during the walk may or may not be seen. fn may call
// the store.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	now := s.now()
	return s.walk(ctx, s.dir, func(name string) error {
		if !validKey(name) {
			return nil
		}
		r, err := s.read(s.path(name))
		if errors.Is(err, ErrCorrupt) {
			return nil
		}
		if err != nil {
			return err
		}
		if r == nil || !r.live(now) {
			return nil
		}
		return fn(seshat.SessionInfo{Key: name, UserID: r.User, Expires: r.Expires})
	})
}

// DeleteExpired removes the files of expired sessions with their user-index
// markers and returns how many sessions it removed. It also prunes markers
// whose session is gone or has another owner, empty user folders, and
// temporary files older than an hour (left by a crash). It reads every
// session file: its cost is linear in the number of sessions.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	now := s.now()
	n, removed := 0, false
	// owners maps each live, owned session to the hash of its owner, so that
	// pruning the index needs no second read of those files.
	owners := map[string]string{}
	err := s.walk(ctx, s.dir, func(name string) error {
		if strings.HasPrefix(name, tempPrefix) {
			if fi, err := os.Lstat(s.path(name)); err == nil && now.Sub(fi.ModTime()) > staleTempAge {
				os.Remove(s.path(name))
			}
			return nil
		}
		if !validKey(name) {
			return nil
		}
		path := s.path(name)
		r, err := s.read(path)
		if errors.Is(err, ErrCorrupt) || (err == nil && r == nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.live(now) {
			if r.User != "" {
				owners[name] = userHash(r.User)
			}
			return nil
		}
		// Expired when read; check again under the lock, since a Touch or
		// a Merge with Create may have revived it meanwhile.
		i, err := s.lock(ctx, name)
		if err != nil {
			return err
		}
		defer s.unlock(i)
		r, err = s.read(path)
		if err != nil || r == nil {
			return nil
		}
		if r.live(now) {
			if r.User != "" {
				owners[name] = userHash(r.User)
			}
			return nil
		}
		ok, err := remove(path)
		if err != nil {
			return err
		}
		if ok {
			n++
			removed = true
			s.removeMarker(r.User, name)
		}
		return nil
	})
	if removed {
		if serr := s.syncDir(s.dir); err == nil {
			err = serr
		}
	}
	if err != nil {
		return n, err
	}
	return n, s.pruneIndex(ctx, now, owners)
}

// pruneIndex removes user-index markers that no longer name a live session
// of their user, then the user folders left empty.
func (s *Store) pruneIndex(ctx context.Context, now time.Time, owners map[string]string) error {
	return s.walk(ctx, s.users, func(uh string) error {
		if !validKey(uh) {
			return nil
		}
		ud := filepath.Join(s.users, uh)
		err := s.walk(ctx, ud, func(name string) error {
			if !validKey(name) || owners[name] == uh {
				return nil
			}
			i, err := s.lock(ctx, name)
			if err != nil {
				return err
			}
			defer s.unlock(i)
			r, err := s.read(s.path(name))
			if err == nil && r != nil && r.User != "" && r.live(now) && userHash(r.User) == uh {
				return nil
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				return err
			}
			os.Remove(filepath.Join(ud, name))
			return nil
		})
		if err != nil {
			return err
		}
		os.Remove(ud) // only succeeds when empty
		return nil
	})
}

var (
	_ seshat.Store     = (*Store)(nil)
	_ seshat.Merger    = (*Store)(nil)
	_ seshat.Toucher   = (*Store)(nil)
	_ seshat.Taker     = (*Store)(nil)
	_ seshat.UserIndex = (*Store)(nil)
	_ seshat.Iterator  = (*Store)(nil)
	_ seshat.Cleaner   = (*Store)(nil)
)
