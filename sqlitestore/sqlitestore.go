package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sqlident"
	"github.com/seshat-go/seshat/internal/strmap"
	"github.com/seshat-go/seshat/internal/sweep"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultTable is the table name used when Options.Table is empty.
const DefaultTable = "seshat_sessions"

// MaxTableNameLen is the longest table name Options.Table accepts.
const MaxTableNameLen = 48

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another connection (another process on the same file) before SQLite
// gives up with SQLITE_BUSY, when Options.BusyTimeout is zero.
const DefaultBusyTimeout = 5 * time.Second

// Batch sizes of the statements that walk many rows.
const (
	iterateBatch = 1000 // rows per page in Iterate
	deleteBatch  = 1000 // rows per DELETE in DeleteExpired
)

// ErrCorruptRecord is returned (wrapped, naming the operation) when a row's
// data column is not the JSON object of strings this package writes.
var ErrCorruptRecord = fmt.Errorf("sqlitestore: %w", seshat.ErrCorruptRecord)

// Options configures a [Store]. The zero value is usable: table
// "seshat_sessions", a 5 s busy timeout, no background cleanup.
type Options struct {
	// Table names the sessions table. It must match [A-Za-z_][A-Za-z0-9_]*
	// and be at most MaxTableNameLen bytes; it is quoted in every statement.
	// Default DefaultTable.
	Table string

	// CleanupInterval, when positive, starts a goroutine that deletes
	// expired rows every interval, until Close. Zero starts none: expired
	// rows are never returned anyway, and DeleteExpired can be called by
	// hand.
	CleanupInterval time.Duration

	// BusyTimeout is SQLite's busy_timeout: how long a statement waits for
	// a lock another connection holds (in practice another process using
	// the same file; this process's own writers queue in Go) before it
	// fails with SQLITE_BUSY. Default DefaultBusyTimeout.
	BusyTimeout time.Duration

	// MaxReaders is the number of connections that serve reads (Load,
	// ListByUser, Iterate) in parallel with the one writer. Default
	// max(4, GOMAXPROCS).
	MaxReaders int

	// Logger receives the failures of the background cleanup. Nil means
	// slog.Default().
	Logger *slog.Logger

	// Now returns the current time; nil means time.Now. Expiry is decided
	// with this clock.
	Now func() time.Time

	// connector, set by this package's tests only, replaces the sqlite
	// driver's own connector for a DSN (to record statement texts).
	connector func(dsn string) driver.Connector
}

// Store is a seshat.Store in an SQLite database file, through
// modernc.org/sqlite (pure Go, no cgo). It also implements seshat.Merger,
// seshat.Toucher, seshat.Taker, seshat.UserIndex, seshat.Iterator and
// seshat.Cleaner. A Store is safe for concurrent use.
//
// It opens two connection pools on the file: one connection for every
// write, so this process's writers queue in Go (under their contexts)
// instead of spinning on SQLITE_BUSY, and MaxReaders read-only connections
// that WAL mode lets read while a write is in progress.
type Store struct {
	w, r   *sql.DB
	now    func() time.Time
	logger *slog.Logger
	q      queries
	st     stmts

	closeOnce sync.Once
	closeErr  error
	stop      context.CancelFunc
	done      chan struct{}
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

// queries holds every statement, built once with the quoted table name.
// Values always travel as parameters.
type queries struct {
	load, save, del, merge, create, touch string
	list, revoke, iterFirst, iterNext, gc string
	takeGet, takeDel                      string
	ddl                                   []string
}

// stmts are the queries prepared once on the pool that runs them (each
// connection prepares a statement on its first use): parsing costs more
// than a point lookup.
type stmts struct {
	load, list, iterFirst, iterNext, peek       *sql.Stmt // readers
	save, del, merge, create, touch, revoke, gc *sql.Stmt // the writer
	takeGet, takeDel                            *sql.Stmt // the writer
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db  *sql.DB
		dst **sql.Stmt
		q   string
	}{
		{s.r, &s.st.load, s.q.load}, {s.r, &s.st.list, s.q.list},
		{s.r, &s.st.iterFirst, s.q.iterFirst}, {s.r, &s.st.iterNext, s.q.iterNext},
		{s.r, &s.st.peek, s.q.takeGet},
		{s.w, &s.st.takeGet, s.q.takeGet}, {s.w, &s.st.takeDel, s.q.takeDel},
		{s.w, &s.st.save, s.q.save}, {s.w, &s.st.del, s.q.del}, {s.w, &s.st.merge, s.q.merge},
		{s.w, &s.st.create, s.q.create}, {s.w, &s.st.touch, s.q.touch},
		{s.w, &s.st.revoke, s.q.revoke}, {s.w, &s.st.gc, s.q.gc},
	} {
		st, err := p.db.PrepareContext(ctx, p.q)
		if err != nil {
			return wrap("open: prepare", err)
		}
		*p.dst = st
	}
	return nil
}

func buildQueries(table string) (queries, error) {
	if !sqlident.Valid(table, MaxTableNameLen) {
		return queries{}, fmt.Errorf("sqlitestore: table name %q: must match [A-Za-z_][A-Za-z0-9_]* and be 1 to %d bytes", table, MaxTableNameLen)
	}
	t := `"` + table + `"`
	// merged is the data column after a change: the old values minus the
	// keys deleted or set ($2, a JSON array), plus the keys set ($3, a JSON
	// object of strings). Every value is a JSON string, so json_each hands
	// it over as text and json_group_object quotes it back: nothing is
	// parsed as JSON on the way, and a value that is JSON null (the string
	// "null") is kept like any other.
	merged := `(SELECT json_group_object(k, v) FROM (
		SELECT e.key AS k, e.value AS v FROM json_each(` + t + `.data) AS e
		WHERE e.key NOT IN (SELECT d.value FROM json_each(?2) AS d)
		UNION ALL
		SELECT n.key, n.value FROM json_each(?3) AS n))`
	return queries{
		ddl: []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
	key        TEXT    NOT NULL PRIMARY KEY,
	data       TEXT    NOT NULL DEFAULT '{}',
	user_id    TEXT    NOT NULL DEFAULT '',
	expires_at INTEGER NOT NULL
)`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_user_id_idx" ON ` + t + ` (user_id) WHERE user_id <> ''`,
			`CREATE INDEX IF NOT EXISTS "` + table + `_expires_at_idx" ON ` + t + ` (expires_at)`,
		},
		load: `SELECT data, user_id, expires_at FROM ` + t + ` WHERE key = ?1 AND expires_at > ?2`,
		save: `INSERT INTO ` + t + ` (key, data, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (key) DO UPDATE SET data = excluded.data, user_id = excluded.user_id, expires_at = excluded.expires_at`,
		del: `DELETE FROM ` + t + ` WHERE key = ?1`,
		// ?1 key, ?2 keys deleted or set, ?3 keys set, ?4 expires,
		// ?5 whether to set the owner, ?6 the owner, ?7 now.
		merge: `UPDATE ` + t + ` SET data = ` + merged + `, expires_at = ?4,
	user_id = CASE WHEN ?5 THEN ?6 ELSE user_id END
WHERE key = ?1 AND expires_at > ?7`,
		// A Create on top of an expired row starts from nothing: neither
		// its values nor its owner survive.
		create: `INSERT INTO ` + t + ` (key, data, user_id, expires_at)
VALUES (?1, ?3, CASE WHEN ?5 THEN ?6 ELSE '' END, ?4)
ON CONFLICT (key) DO UPDATE SET
	data = CASE WHEN ` + t + `.expires_at > ?7 THEN ` + merged + ` ELSE excluded.data END,
	user_id = CASE WHEN ?5 THEN ?6 WHEN ` + t + `.expires_at > ?7 THEN ` + t + `.user_id ELSE '' END,
	expires_at = excluded.expires_at`,
		touch:     `UPDATE ` + t + ` SET expires_at = ?2 WHERE key = ?1 AND expires_at > ?3`,
		list:      `SELECT key, expires_at FROM ` + t + ` WHERE user_id = ?1 AND user_id <> '' AND expires_at > ?2 ORDER BY expires_at, key`,
		revoke:    `DELETE FROM ` + t + ` WHERE user_id = ?1 AND user_id <> '' RETURNING expires_at`,
		iterFirst: `SELECT key, user_id, expires_at FROM ` + t + ` WHERE expires_at > ?1 ORDER BY key LIMIT ` + strconv.Itoa(iterateBatch),
		iterNext:  `SELECT key, user_id, expires_at FROM ` + t + ` WHERE key > ?2 AND expires_at > ?1 ORDER BY key LIMIT ` + strconv.Itoa(iterateBatch),
		gc:        `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` WHERE expires_at <= ?1 LIMIT ` + strconv.Itoa(deleteBatch) + `)`,
		// ?1 key, ?2 the value's name, ?3 now. The name is matched as an
		// object key, never spliced into a JSON path, so it may hold any
		// character; e.value is the JSON string unescaped (the tagged JSON),
		// and e.type tells a string from anything this package never wrote.
		takeGet: `SELECT e.value, e.type FROM ` + t + `, json_each(` + t + `.data) AS e
WHERE ` + t + `.key = ?1 AND ` + t + `.expires_at > ?3 AND e.key = ?2`,
		takeDel: `UPDATE ` + t + ` SET data = (SELECT json_group_object(e.key, e.value)
	FROM json_each(` + t + `.data) AS e WHERE e.key <> ?2)
WHERE key = ?1`,
	}, nil
}

// openDB opens a pool on the sqlite driver for dsn, through
// opts.connector when a test set one.
func openDB(opts Options, dsn string) (*sql.DB, error) {
	if opts.connector != nil {
		return sql.OpenDB(opts.connector(dsn)), nil
	}
	return sql.Open("sqlite", dsn)
}

// DDL returns the statements Open runs to create the table named table
// (DefaultTable when empty) and its indexes. Each is idempotent.
func DDL(table string) ([]string, error) {
	if table == "" {
		table = DefaultTable
	}
	q, err := buildQueries(table)
	if err != nil {
		return nil, err
	}
	return q.ddl, nil
}

// Open opens (creating if needed) the SQLite database at path, switches it
// to WAL mode, creates the table and its indexes if they do not exist, and
// returns a Store on it. path is a file path; ":memory:" gives a private
// in-memory database on a single connection (for tests: no WAL, nothing
// shared). Close closes the database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlitestore: open: path %q: want a file path without '?'", path)
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	q, err := buildQueries(table)
	if err != nil {
		return nil, err
	}
	if opts.CleanupInterval < 0 || opts.BusyTimeout < 0 || opts.MaxReaders < 0 {
		return nil, errors.New("sqlitestore: open: negative option")
	}
	busy := opts.BusyTimeout
	if busy == 0 {
		busy = DefaultBusyTimeout
	}
	readers := opts.MaxReaders
	if readers == 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}
	s := &Store{now: opts.Now, logger: opts.Logger, q: q}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	busyParam := "_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")"
	if path == ":memory:" {
		s.w, err = openDB(opts, path+"?"+busyParam)
		if err != nil {
			return nil, wrap("open", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxLifetime(0)
		s.w.SetConnMaxIdleTime(0)
		s.r = s.w
	} else {
		// The writer: WAL (set once, kept by the file), synchronous=NORMAL
		// (WAL's recommended level: a power cut may lose the last commits,
		// never consistency), BEGIN IMMEDIATE for any transaction.
		s.w, err = openDB(opts, path+"?"+busyParam+
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, wrap("open", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxLifetime(0)
		s.w.SetConnMaxIdleTime(0)
		s.r, err = openDB(opts, path+"?"+busyParam+"&_pragma=query_only(1)")
		if err != nil {
			s.w.Close()
			return nil, wrap("open", err)
		}
		s.r.SetMaxOpenConns(readers)
		s.r.SetMaxIdleConns(readers)
		s.r.SetConnMaxLifetime(0)
		s.r.SetConnMaxIdleTime(0)
	}
	if err := s.createTable(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if opts.CleanupInterval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stop, s.done = cancel, make(chan struct{})
		go sweep.Every(ctx, opts.CleanupInterval, s.done, s.DeleteExpired, func(err error) {
			s.logger.Error("sqlitestore: background cleanup failed", "err", err.Error())
		})
	}
	return s, nil
}

// createTable runs the DDL in one transaction on the writer (which opens
// the file and sets WAL mode before any reader connects).
func (s *Store) createTable(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("open: create table", err)
	}
	defer tx.Rollback()
	for _, stmt := range s.q.ddl {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return wrap("open: create table", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap("open: create table", err)
	}
	return nil
}

func (s *Store) closeDBs() error {
	var err error
	for _, st := range []*sql.Stmt{s.st.load, s.st.list, s.st.iterFirst, s.st.iterNext, s.st.peek,
		s.st.save, s.st.del, s.st.merge, s.st.create, s.st.touch, s.st.revoke, s.st.gc,
		s.st.takeGet, s.st.takeDel} {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	err = errors.Join(err, s.w.Close())
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Close stops the background cleanup, if any, waits for it to return, and
// closes the database. Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.done
		}
		if err := s.closeDBs(); err != nil {
			s.closeErr = fmt.Errorf("sqlitestore: close: %w", err)
		}
	})
	return s.closeErr
}

// Load returns the record under key, or an error wrapping
// seshat.ErrNoRecord when there is none or it has expired (rows are
// filtered on expires_at, whether or not they have been cleaned up yet).
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	var (
		data    []byte
		rec     seshat.Record
		expires int64
	)
	err := s.st.load.QueryRowContext(ctx, key, s.now().UnixMicro()).Scan(&data, &rec.UserID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: load: %w", seshat.ErrNoRecord)
	}
	if err != nil {
		return nil, wrap("load", err)
	}
	rec.Expires = time.UnixMicro(expires)
	rec.Values, err = strmap.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: load: %w: %w", ErrCorruptRecord, err)
	}
	return &rec, nil
}

// Save writes rec under key, replacing any row there (expired or not).
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	data, err := strmap.Encode(rec.Values)
	if err != nil {
		return fmt.Errorf("sqlitestore: save: %w", err)
	}
	if _, err := s.st.save.ExecContext(ctx, key, string(data), rec.UserID, rec.Expires.UnixMicro()); err != nil {
		return wrap("save", err)
	}
	return nil
}

// Delete removes the row under key; a missing row is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.st.del.ExecContext(ctx, key); err != nil {
		return wrap("delete", err)
	}
	return nil
}

// Merge applies one request's changes to the row under key in a single
// UPDATE statement that rebuilds the data object inside SQLite: the old
// values minus the deleted and set keys, plus the set keys. Keys the change
// does not name keep whatever concurrent requests wrote to them; for a key
// two requests both set, the later write wins.
//
// Without ch.Create, a missing or expired row is left alone and Merge
// returns an error wrapping seshat.ErrSessionGone. With ch.Create, a missing
// or expired row is replaced by a new one holding ch.Set.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	set, err := strmap.Encode(ch.Set)
	if err != nil {
		return fmt.Errorf("sqlitestore: merge: %w", err)
	}
	drop := make([]string, 0, len(ch.Delete)+len(ch.Set))
	drop = append(drop, ch.Delete...)
	for k := range ch.Set {
		drop = append(drop, k)
	}
	dropJSON, err := strmap.EncodeKeys(drop)
	if err != nil {
		return fmt.Errorf("sqlitestore: merge: %w", err)
	}
	st := s.st.merge
	if ch.Create {
		st = s.st.create
	}
	res, err := st.ExecContext(ctx, key, dropJSON, string(set), ch.Expires.UnixMicro(), ch.SetUser, ch.UserID, s.now().UnixMicro())
	if err != nil {
		return wrap("merge", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("merge", err)
	} else if n == 0 {
		return fmt.Errorf("sqlitestore: merge: %w", seshat.ErrSessionGone)
	}
	return nil
}

// Touch moves the expiry of the live row under key to expires, without
// rewriting its data. A missing or expired row gives an error wrapping
// seshat.ErrNoRecord.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	res, err := s.st.touch.ExecContext(ctx, key, expires.UnixMicro(), s.now().UnixMicro())
	if err != nil {
		return wrap("touch", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("touch", err)
	} else if n == 0 {
		return fmt.Errorf("sqlitestore: touch: %w", seshat.ErrNoRecord)
	}
	return nil
}

// Take removes the value name from the live row under key and returns its
// tagged JSON, in one transaction on the writer (BEGIN IMMEDIATE, so
// writers of other processes wait too): it selects the value, then
// rewrites the data object without it, leaving the expiry, the owner and
// the other values alone. Of concurrent Takes of one value, the first to
// get the writer takes it and the others find it gone. A missing or
// expired row, or a row without name, gives ok false and a nil error.
//
// A reader first looks for the value, so a Take that finds nothing (the
// common case: a page that shows flashed messages when there are none)
// costs one read and never waits for the writer.
func (s *Store) Take(ctx context.Context, key, name string) (value []byte, ok bool, err error) {
	now := s.now().UnixMicro()
	if _, ok, err := takeGet(ctx, s.st.peek, key, name, now); err != nil || !ok {
		return nil, false, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, wrap("take", err)
	}
	defer tx.Rollback()
	value, ok, err = takeGet(ctx, tx.StmtContext(ctx, s.st.takeGet), key, name, now)
	if err != nil || !ok {
		return nil, false, err
	}
	if _, err := tx.StmtContext(ctx, s.st.takeDel).ExecContext(ctx, key, name); err != nil {
		return nil, false, wrap("take", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, wrap("take", err)
	}
	return value, true, nil
}

// takeGet runs the takeGet query on st: the tagged JSON of name in the
// live row under key.
func takeGet(ctx context.Context, st *sql.Stmt, key, name string, now int64) ([]byte, bool, error) {
	var (
		value []byte
		typ   string
	)
	err := st.QueryRowContext(ctx, key, name, now).Scan(&value, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("take", err)
	}
	if typ != "text" {
		return nil, false, fmt.Errorf("sqlitestore: take: %w: value of %q is JSON %s, not a string", ErrCorruptRecord, name, typ)
	}
	return value, true, nil
}

// ListByUser returns the live sessions owned by userID, soonest expiry
// first, through the index on user_id. Anonymous sessions (owner "") are
// never listed: an empty userID gives none.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := s.st.list.QueryContext(ctx, userID, s.now().UnixMicro())
	if err != nil {
		return nil, wrap("list by user", err)
	}
	defer rows.Close()
	var out []seshat.SessionInfo
	for rows.Next() {
		info := seshat.SessionInfo{UserID: userID}
		var exp int64
		if err := rows.Scan(&info.Key, &exp); err != nil {
			return nil, wrap("list by user", err)
		}
		info.Expires = time.UnixMicro(exp)
		out = append(out, info)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list by user", err)
	}
	return out, nil
}

// RevokeUser deletes every row owned by userID, expired or not, in one
// statement, and returns how many of them were live. An empty userID
// deletes nothing: anonymous sessions have no owner to revoke.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	now := s.now().UnixMicro()
	rows, err := s.st.revoke.QueryContext(ctx, userID)
	if err != nil {
		return 0, wrap("revoke user", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var exp int64
		if err := rows.Scan(&exp); err != nil {
			return 0, wrap("revoke user", err)
		}
		if exp > now {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("revoke user", err)
	}
	return n, nil
}

// Iterate calls fn for every live session, in key order, reading pages of
// 1000 rows by key; no connection is held while fn runs, so fn may call the
// store. Sessions created or deleted during the walk may or may not be
// seen. An error from fn stops the walk and is returned as is.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	page := make([]seshat.SessionInfo, 0, iterateBatch)
	last := ""
	for first := true; ; first = false {
		var (
			rows *sql.Rows
			err  error
		)
		if first {
			rows, err = s.st.iterFirst.QueryContext(ctx, s.now().UnixMicro())
		} else {
			rows, err = s.st.iterNext.QueryContext(ctx, s.now().UnixMicro(), last)
		}
		if err != nil {
			return wrap("iterate", err)
		}
		page = page[:0]
		for rows.Next() {
			var (
				info seshat.SessionInfo
				exp  int64
			)
			if err := rows.Scan(&info.Key, &info.UserID, &exp); err != nil {
				rows.Close()
				return wrap("iterate", err)
			}
			info.Expires = time.UnixMicro(exp)
			page = append(page, info)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return wrap("iterate", err)
		}
		for _, info := range page {
			if err := fn(info); err != nil {
				return err
			}
		}
		if len(page) < iterateBatch {
			return nil
		}
		last = page[len(page)-1].Key
	}
}

// DeleteExpired deletes the rows whose expiry has passed, in batches of
// 1000 rows (each its own statement, so readers and other writers get the
// database between batches), and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	now := s.now().UnixMicro()
	for {
		res, err := s.st.gc.ExecContext(ctx, now)
		if err != nil {
			return total, wrap("delete expired", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, wrap("delete expired", err)
		}
		total += int(n)
		if n < deleteBatch {
			return total, nil
		}
	}
}

// wrap names the operation and marks failures of the engine (as opposed to
// a bad statement) with seshat.ErrStoreUnavailable.
func wrap(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// unavailable reports whether err is a failure of the engine rather than
// of the statement: everything that is not an SQLite error (a cancelled or
// expired context, a closed database), and the SQLite errors BUSY (the busy
// timeout ran out), LOCKED, NOMEM, READONLY, INTERRUPT, IOERR, CORRUPT,
// FULL, CANTOPEN, PROTOCOL and NOTADB.
func unavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return true
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}
