package mysqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sqlident"
	"github.com/seshat-go/seshat/internal/sweep"
)

const (
	// DefaultTable is the table a Store uses when Options.Table is empty.
	DefaultTable = "seshat_sessions"
	// DefaultCleanupInterval is how often the background cleaner deletes
	// expired rows when Options.CleanupInterval is zero.
	DefaultCleanupInterval = 5 * time.Minute
	// MaxKeyLen is the longest store key (and user id) the table holds, in
	// bytes.
	MaxKeyLen = 255
	// MaxValueDepth is how deeply a session value may nest arrays and
	// objects. Each value is stored two levels down (an object of one-element
	// arrays), and MariaDB's JSON functions stop at 32 levels.
	MaxValueDepth = 29

	pageSize        = 500  // rows per page of Iterate
	cleanBatch      = 1000 // rows per DELETE of DeleteExpired and RevokeUser
	deadlockRetries = 5    // runs of a statement InnoDB picked as a deadlock victim
)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// Table is the table name, default [DefaultTable]. It must be a plain
	// identifier (letters, digits, '_', at most 64 bytes, not starting with
	// a digit); it is quoted with backquotes in every statement.
	Table string
	// NoCreateTable skips the CREATE TABLE IF NOT EXISTS that New runs, for
	// a database user without DDL rights. The table must then exist with the
	// schema shown in the package documentation.
	NoCreateTable bool
	// CleanupInterval is how often a background goroutine deletes expired
	// rows; zero means [DefaultCleanupInterval], a negative value starts no
	// goroutine (call [Store.DeleteExpired] yourself, from one instance).
	// Expired rows are never returned either way.
	CleanupInterval time.Duration
	// Now is the clock deciding what has expired; default time.Now. Expiry
	// is compared with this clock, not the database server's.
	Now func() time.Time
	// Logger receives the errors of the background cleaner; default
	// slog.Default().
	Logger *slog.Logger
}

// Store keeps sessions in one MariaDB/MySQL table. It is safe for
// concurrent use. It holds prepared statements on the caller's *sql.DB;
// Close releases them (and stops the cleaner) but leaves the *sql.DB open.
type Store struct {
	db    *sql.DB
	table string
	now   func() time.Time
	log   *slog.Logger
	st    statements

	ctx       context.Context // cancelled by Close; stops the cleaner
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

type statements struct {
	load, save, del, touch                 *sql.Stmt
	update, updateUser, create, createUser *sql.Stmt
	listUser, page, expiredIDs             *sql.Stmt
	takeLock, takeDel                      *sql.Stmt
}

// DDL returns the CREATE TABLE statement New runs for table (a plain
// identifier, see Options.Table).
func DDL(table string) string {
	return strings.ReplaceAll(ddl, "{T}", "`"+table+"`")
}

const ddl = "CREATE TABLE IF NOT EXISTS {T} (\n" +
	"  id         VARBINARY(255)  NOT NULL,\n" +
	"  data       JSON            NOT NULL,\n" +
	"  user_id    VARBINARY(255)  NOT NULL DEFAULT '',\n" +
	"  expires_at BIGINT          NOT NULL,\n" +
	"  rev        BIGINT UNSIGNED NOT NULL DEFAULT 0,\n" +
	"  PRIMARY KEY (id),\n" +
	"  KEY user_expires (user_id, expires_at),\n" +
	"  KEY expires (expires_at)\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// The statements, {T} standing for the quoted table. Every caller-derived
// value is a parameter.
const (
	sqlLoad = "SELECT data, user_id, expires_at FROM {T} FORCE INDEX (PRIMARY) WHERE id = ? AND expires_at > ?"
	sqlSave = "INSERT INTO {T} (id, data, user_id, expires_at, rev) VALUES (?, ?, ?, ?, 0) " +
		"ON DUPLICATE KEY UPDATE data = ?, user_id = ?, expires_at = ?, rev = rev + 1"
	sqlDelete = "DELETE FROM {T} WHERE id = ?"
	sqlTouch  = "UPDATE {T} FORCE INDEX (PRIMARY) SET expires_at = ?, rev = rev + 1 WHERE id = ? AND expires_at > ?"
	// A merge of an existing session: one UPDATE that patches the document
	// in the engine, only while the row is live. FORCE INDEX keeps the
	// optimizer from scanning (or intersecting with) the expires_at index,
	// whose row locks, taken in the other order than the primary key's,
	// deadlock concurrent merges of one session.
	sqlUpdate     = "UPDATE {T} FORCE INDEX (PRIMARY) SET data = JSON_MERGE_PATCH(data, ?), expires_at = ?, rev = rev + 1 WHERE id = ? AND expires_at > ?"
	sqlUpdateUser = "UPDATE {T} FORCE INDEX (PRIMARY) SET data = JSON_MERGE_PATCH(data, ?), user_id = ?, expires_at = ?, rev = rev + 1 WHERE id = ? AND expires_at > ?"
	// A merge that may create the session: insert, or patch a live row, or
	// replace an expired one. expires_at is assigned last, so the
	// assignments before it test the old expiry whether the server assigns
	// left to right (the default) or simultaneously (MariaDB's
	// SIMULTANEOUS_ASSIGNMENT mode).
	sqlCreate = "INSERT INTO {T} (id, data, user_id, expires_at, rev) VALUES (?, ?, '', ?, 0) " +
		"ON DUPLICATE KEY UPDATE data = IF(expires_at > ?, JSON_MERGE_PATCH(data, ?), ?), " +
		"user_id = IF(expires_at > ?, user_id, ''), expires_at = ?, rev = rev + 1"
	sqlCreateUser = "INSERT INTO {T} (id, data, user_id, expires_at, rev) VALUES (?, ?, ?, ?, 0) " +
		"ON DUPLICATE KEY UPDATE data = IF(expires_at > ?, JSON_MERGE_PATCH(data, ?), ?), " +
		"user_id = ?, expires_at = ?, rev = rev + 1"
	// Take, in one transaction after Load found the value: lock the live
	// row and read it again, then remove the value with a merge patch
	// {"name":null}, so no JSON path is ever built from the name.
	sqlTakeLock   = "SELECT data FROM {T} FORCE INDEX (PRIMARY) WHERE id = ? AND expires_at > ? FOR UPDATE"
	sqlTakeDel    = "UPDATE {T} FORCE INDEX (PRIMARY) SET data = JSON_MERGE_PATCH(data, ?), rev = rev + 1 WHERE id = ?"
	sqlListUser   = "SELECT id, expires_at FROM {T} WHERE user_id = ? AND expires_at > ?"
	sqlPage       = "SELECT id, user_id, expires_at FROM {T} WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?"
	sqlExpiredIDs = "SELECT id FROM {T} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?"
)

// New returns a store over table opts.Table of db. Unless
// opts.NoCreateTable, it first creates the table if it does not exist (see
// [DDL]); it then prepares its statements, which also checks that the table
// has the expected columns, and starts the background cleaner unless
// opts.CleanupInterval is negative. A database that cannot be reached gives
// an error that wraps [seshat.ErrStoreUnavailable].
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysqlstore: nil *sql.DB")
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	if !sqlident.Valid(table, 64) {
		return nil, fmt.Errorf("mysqlstore: invalid table name %q (want letters, digits and '_', at most 64 bytes)", table)
	}
	s := &Store{db: db, table: "`" + table + "`", now: opts.Now, log: opts.Logger, done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if !opts.NoCreateTable {
		if _, err := db.ExecContext(ctx, DDL(table)); err != nil {
			return nil, unavailable("create table", err)
		}
	}
	if err := s.prepare(ctx); err != nil {
		s.closeStatements()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	interval := opts.CleanupInterval
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	if interval > 0 {
		go sweep.Every(s.ctx, interval, s.done, s.DeleteExpired, func(err error) {
			s.log.Warn("mysqlstore: cleanup of expired sessions failed", "table", s.table, "err", err.Error())
		})
	} else {
		close(s.done)
	}
	return s, nil
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.st.load, sqlLoad}, {&s.st.save, sqlSave}, {&s.st.del, sqlDelete}, {&s.st.touch, sqlTouch},
		{&s.st.update, sqlUpdate}, {&s.st.updateUser, sqlUpdateUser},
		{&s.st.create, sqlCreate}, {&s.st.createUser, sqlCreateUser},
		{&s.st.listUser, sqlListUser}, {&s.st.page, sqlPage}, {&s.st.expiredIDs, sqlExpiredIDs},
		{&s.st.takeLock, sqlTakeLock}, {&s.st.takeDel, sqlTakeDel},
	} {
		st, err := s.db.PrepareContext(ctx, strings.ReplaceAll(p.query, "{T}", s.table))
		if err != nil {
			return unavailable("prepare statements (does the table have the schema of mysqlstore.DDL?)", err)
		}
		*p.dst = st
	}
	return nil
}

func (s *Store) closeStatements() {
	for _, st := range []*sql.Stmt{
		s.st.load, s.st.save, s.st.del, s.st.touch, s.st.update, s.st.updateUser,
		s.st.create, s.st.createUser, s.st.listUser, s.st.page, s.st.expiredIDs,
		s.st.takeLock, s.st.takeDel,
	} {
		if st != nil {
			st.Close()
		}
	}
}

// Close stops the background cleaner (interrupting a cleanup in progress),
// waits for it, and closes the store's prepared statements. It does not
// close the *sql.DB. The Store must not be used after Close; calling Close
// again is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
		s.closeStatements()
	})
	return nil
}

// unavailable marks a failure of the database (connection refused or lost,
// timeout, lock wait, any server error) as [seshat.ErrStoreUnavailable], so
// the middleware answers 503 instead of starting a fresh session.
func unavailable(op string, err error) error {
	return fmt.Errorf("mysqlstore: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
}

// isDeadlock reports an InnoDB deadlock (1213): the statement was rolled
// back as a whole and may simply run again.
func isDeadlock(err error) bool { return errNumber(err) == 1213 }

func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// backoff waits a little before the next run of a deadlocked statement,
// longer after each try; it reports false when ctx is done first.
func backoff(ctx context.Context, try int) bool {
	d := time.Duration(1+rand.IntN(2<<try)) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// exec runs a write, running it again after a deadlock, and returns the
// rows it affected.
func exec(ctx context.Context, st *sql.Stmt, op string, args ...any) (int64, error) {
	var err error
	for try := 0; try < deadlockRetries; try++ {
		var res sql.Result
		res, err = st.ExecContext(ctx, args...)
		if err == nil {
			n, _ := res.RowsAffected()
			return n, nil
		}
		if !isDeadlock(err) || !backoff(ctx, try) {
			break
		}
	}
	return 0, unavailable(op, err)
}

// deleteIDs deletes the rows among ids that still meet cond (a condition
// with placeholders, whose arguments are args), by primary key, batch rows
// per statement, and returns how many went. Deleting by key locks only those
// rows: a DELETE that scanned a secondary index range instead would also
// lock the row just past the range, possibly a live session that a merge
// is changing, and the two would deadlock. The statement text has one
// placeholder per id; every value is a parameter.
func (s *Store) deleteIDs(ctx context.Context, op string, ids []string, cond string, args ...any) (int, error) {
	total := 0
	for len(ids) > 0 {
		n := min(len(ids), cleanBatch)
		var q strings.Builder
		q.WriteString("DELETE FROM ")
		q.WriteString(s.table)
		q.WriteString(" WHERE id IN (?")
		q.WriteString(strings.Repeat(", ?", n-1))
		q.WriteString(") AND ")
		q.WriteString(cond)
		params := make([]any, 0, n+len(args))
		for _, id := range ids[:n] {
			params = append(params, id)
		}
		params = append(params, args...)
		var err error
		for try := 0; try < deadlockRetries; try++ {
			var res sql.Result
			if res, err = s.db.ExecContext(ctx, q.String(), params...); err == nil {
				m, _ := res.RowsAffected()
				total += int(m)
				break
			}
			if !isDeadlock(err) || !backoff(ctx, try) {
				break
			}
		}
		if err != nil {
			return total, unavailable(op, err)
		}
		ids = ids[n:]
	}
	return total, nil
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("mysqlstore: store key of %d bytes (want 1 to %d)", len(key), MaxKeyLen)
	}
	return nil
}

func checkUser(user string) error {
	if len(user) > MaxKeyLen {
		return fmt.Errorf("mysqlstore: user id of %d bytes (at most %d)", len(user), MaxKeyLen)
	}
	return nil
}

// micros is the stored form of a time: Unix microseconds. Stored as an
// integer, expiry does not depend on the DSN's parseTime and loc or on the
// server's time zone.
func micros(t time.Time) int64 { return t.UnixMicro() }

// Load returns the session under key, or [seshat.ErrNoRecord] when there
// is no row or it has expired (the WHERE clause hides expired rows, cleaned
// up or not).
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var (
		data, user []byte
		exp        int64
	)
	err := s.st.load.QueryRowContext(ctx, key, micros(s.now())).Scan(&data, &user, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, seshat.ErrNoRecord
	}
	if err != nil {
		return nil, unavailable("load", err)
	}
	values, err := decodeDoc(data)
	if err != nil {
		return nil, err
	}
	return &seshat.Record{Values: values, Expires: time.UnixMicro(exp), UserID: string(user)}, nil
}

// Save writes rec under key (INSERT ... ON DUPLICATE KEY UPDATE), replacing
// the values, expiry and owner of any row there.
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if rec == nil {
		return errors.New("mysqlstore: Save of a nil record")
	}
	if err := checkUser(rec.UserID); err != nil {
		return err
	}
	doc, err := encodeDoc(rec.Values)
	if err != nil {
		return err
	}
	exp := micros(rec.Expires)
	_, err = exec(ctx, s.st.save, "save", key, doc, rec.UserID, exp, doc, rec.UserID, exp)
	return err
}

// Delete removes the row under key; a missing row is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := exec(ctx, s.st.del, "delete", key)
	return err
}

// Merge applies ch in one statement, atomically in the engine: the values
// are patched with JSON_MERGE_PATCH (ch.Delete removed, then ch.Set set, so
// a key in both ends up set), the expiry replaced, and the owner when
// ch.SetUser. Without ch.Create it is an UPDATE of the live row, and when no
// live row matched it returns [seshat.ErrSessionGone] and writes nothing.
// With ch.Create it is an INSERT ... ON DUPLICATE KEY UPDATE that patches a
// live row, or replaces an expired one, or inserts.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ch == nil {
		return errors.New("mysqlstore: Merge of a nil change")
	}
	if err := checkUser(ch.UserID); err != nil {
		return err
	}
	patch, err := encodePatch(ch.Set, ch.Delete)
	if err != nil {
		return err
	}
	exp, now := micros(ch.Expires), micros(s.now())
	if !ch.Create {
		var n int64
		if ch.SetUser {
			n, err = exec(ctx, s.st.updateUser, "merge", patch, ch.UserID, exp, key, now)
		} else {
			n, err = exec(ctx, s.st.update, "merge", patch, exp, key, now)
		}
		if err == nil && n == 0 {
			return seshat.ErrSessionGone
		}
		return err
	}
	doc, err := encodeDoc(ch.Set)
	if err != nil {
		return err
	}
	if ch.SetUser {
		_, err = exec(ctx, s.st.createUser, "merge", key, doc, ch.UserID, exp, now, patch, doc, ch.UserID, exp)
	} else {
		_, err = exec(ctx, s.st.create, "merge", key, doc, exp, now, patch, doc, now, exp)
	}
	return err
}

// Touch sets the expiry of the live row under key, or returns
// [seshat.ErrNoRecord] when there is none.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	n, err := exec(ctx, s.st.touch, "touch", micros(expires), key, micros(s.now()))
	if err == nil && n == 0 {
		return seshat.ErrNoRecord
	}
	return err
}

// Take removes the value name from the live row under key and returns it,
// in one transaction: SELECT ... FOR UPDATE locks the row and reads its
// document, then an UPDATE removes the value with JSON_MERGE_PATCH, leaving
// the expiry, the owner and the other values alone. Of concurrent Takes of
// one value, the first to lock the row takes it and the others, waiting for
// the lock, read the document without it. A transaction InnoDB rolls back
// as a deadlock victim runs again, like the other writes.
//
// A plain Load comes first, so a Take that finds nothing (no live row, or
// no such value: most pages that show flashed messages) costs one
// lock-free read and opens no transaction. ok is false, with a nil error,
// in those cases.
func (s *Store) Take(ctx context.Context, key, name string) (value []byte, ok bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	now := micros(s.now())
	var (
		data, user []byte
		exp        int64
	)
	err = s.st.load.QueryRowContext(ctx, key, now).Scan(&data, &user, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable("take", err)
	}
	if _, ok, err := findValue(data, name); err != nil || !ok {
		return nil, false, err
	}
	patch, err := encodePatch(nil, []string{name})
	if err != nil {
		return nil, false, err
	}
	for try := 0; ; try++ {
		value, ok, err = s.takeTx(ctx, key, name, now, patch)
		if !isDeadlock(err) || try == deadlockRetries-1 || !backoff(ctx, try) {
			return value, ok, err
		}
	}
}

// takeTx is one run of Take's transaction.
func (s *Store) takeTx(ctx context.Context, key, name string, now int64, patch string) ([]byte, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, unavailable("take", err)
	}
	defer tx.Rollback()
	var data []byte
	err = tx.StmtContext(ctx, s.st.takeLock).QueryRowContext(ctx, key, now).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable("take", err)
	}
	value, ok, err := findValue(data, name)
	if err != nil || !ok {
		return nil, false, err
	}
	if _, err := tx.StmtContext(ctx, s.st.takeDel).ExecContext(ctx, patch, key); err != nil {
		return nil, false, unavailable("take", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, unavailable("take", err)
	}
	return value, true, nil
}

// ListByUser returns the live sessions owned by userID, through the
// (user_id, expires_at) index. Anonymous sessions are not listed:
// ListByUser("") returns nothing.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	if userID == "" {
		return nil, nil
	}
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	rows, err := s.st.listUser.QueryContext(ctx, userID, micros(s.now()))
	if err != nil {
		return nil, unavailable("list by user", err)
	}
	defer rows.Close()
	var out []seshat.SessionInfo
	for rows.Next() {
		var (
			id  []byte
			exp int64
		)
		if err := rows.Scan(&id, &exp); err != nil {
			return nil, unavailable("list by user", err)
		}
		out = append(out, seshat.SessionInfo{Key: string(id), UserID: userID, Expires: time.UnixMicro(exp)})
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("list by user", err)
	}
	return out, nil
}

// RevokeUser deletes the live sessions of userID and returns how many: it
// reads their keys through the (user_id, expires_at) index, then deletes
// those rows by key, 1000 per statement. Its expired rows are left to
// DeleteExpired.
// RevokeUser("") deletes nothing.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	if err := checkUser(userID); err != nil {
		return 0, err
	}
	now := micros(s.now())
	ids, err := s.queryIDs(ctx, s.st.listUser, "revoke user", userID, now)
	if err != nil {
		return 0, err
	}
	return s.deleteIDs(ctx, "revoke user", ids, "user_id = ? AND expires_at > ?", userID, now)
}

// queryIDs returns the ids (the first column) that st selects.
func (s *Store) queryIDs(ctx context.Context, st *sql.Stmt, op string, args ...any) ([]string, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, unavailable(op, err)
	}
	defer rows.Close()
	var ids []string
	// Columns fails when the rows were closed under us: the connection broke
	// after the query was sent, or the context (the sweeper's, cancelled by
	// Close) ended. Without the check dest is empty and dest[0] panics in the
	// background sweeper, which CI saw once when a test stopped its server.
	cols, err := rows.Columns()
	if err != nil {
		return nil, unavailable(op, err)
	}
	if len(cols) == 0 {
		return nil, unavailable(op, errors.New("query returned no columns"))
	}
	dest := make([]any, len(cols))
	var id []byte
	dest[0] = &id
	for i := 1; i < len(dest); i++ {
		dest[i] = new(sql.RawBytes)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, unavailable(op, err)
		}
		ids = append(ids, string(id))
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(op, err)
	}
	return ids, nil
}

// Iterate calls fn for every live session in key order, stopping at fn's
// first error or when ctx is done. It reads pages of 500 rows by key
// (keyset pagination) and holds no connection while fn runs, so fn may call
// the store; a session created or deleted during the walk may or may not be
// seen.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	now := micros(s.now())
	after := ""
	page := make([]seshat.SessionInfo, 0, pageSize)
	for {
		page = page[:0]
		rows, err := s.st.page.QueryContext(ctx, after, now, pageSize)
		if err != nil {
			return unavailable("iterate", err)
		}
		for rows.Next() {
			var (
				id, user []byte
				exp      int64
			)
			if err := rows.Scan(&id, &user, &exp); err != nil {
				rows.Close()
				return unavailable("iterate", err)
			}
			page = append(page, seshat.SessionInfo{Key: string(id), UserID: string(user), Expires: time.UnixMicro(exp)})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return unavailable("iterate", err)
		}
		for _, in := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(in); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// DeleteExpired deletes expired rows and returns how many it deleted. It
// reads the keys of up to 1000 expired rows through the expires_at index (a
// plain read, no locks), deletes those rows by key if they are still
// expired, and repeats until a read finds fewer than 1000.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	now := micros(s.now())
	total := 0
	for {
		ids, err := s.queryIDs(ctx, s.st.expiredIDs, "delete expired", now, cleanBatch)
		if err != nil {
			return total, err
		}
		n, err := s.deleteIDs(ctx, "delete expired", ids, "expires_at <= ?", now)
		total += n
		if err != nil || len(ids) < cleanBatch || n == 0 {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// checkValue refuses what the table could not hold faithfully: a value that
// is not JSON, or one nested deeper than MaxValueDepth.
func checkValue(k string, v []byte) error {
	if !json.Valid(v) {
		return fmt.Errorf("mysqlstore: value of session key %q is not valid JSON", k)
	}
	depth, max, inString, escaped := 0, 0, false, false
	for _, c := range v {
		switch {
		case escaped:
			escaped = false
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				max = depth
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	if max > MaxValueDepth {
		return fmt.Errorf("mysqlstore: value of session key %q nests %d levels deep (at most %d)", k, max, MaxValueDepth)
	}
	return nil
}

// appendKey appends k as a JSON string.
func appendKey(b []byte, k string) []byte {
	plain := true
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, k...)
		return append(b, '"')
	}
	q, _ := json.Marshal(k) // a string always marshals
	return append(b, q...)
}

// encodeDoc is the stored document of values: {"key":[value],...}. Each
// value sits in a one-element array, so that a JSON null value survives
// JSON_MERGE_PATCH, for which a null member means "remove".
func encodeDoc(values map[string][]byte) (string, error) {
	n := 2
	for k, v := range values {
		n += len(k) + len(v) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for k, v := range values {
		if err := checkValue(k, v); err != nil {
			return "", err
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendKey(b, k)
		b = append(b, ':', '[')
		b = append(b, v...)
		b = append(b, ']')
	}
	b = append(b, '}')
	return string(b), nil
}

// encodePatch is the JSON merge patch (RFC 7396) of a change: "key":null
// removes a key, "key":[value] sets it.
func encodePatch(set map[string][]byte, del []string) (string, error) {
	doc, err := encodeDoc(set)
	if err != nil {
		return "", err
	}
	b := []byte(doc[:len(doc)-1])
	for _, k := range del {
		if _, ok := set[k]; ok {
			continue // set wins
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendKey(b, k)
		b = append(b, ":null"...)
	}
	b = append(b, '}')
	return string(b), nil
}

// errCorrupt marks a stored document this package did not write.
var errCorrupt = fmt.Errorf("mysqlstore: %w", seshat.ErrCorruptRecord)

// decodeDoc unwraps a stored document into the values.
func decodeDoc(data []byte) (map[string][]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	values := make(map[string][]byte, len(doc))
	for k, raw := range doc {
		inner, err := unwrap(k, raw)
		if err != nil {
			return nil, err
		}
		values[k] = inner
	}
	return values, nil
}

// unwrap returns the value in raw, the stored one-element array of key k.
func unwrap(k string, raw []byte) ([]byte, error) {
	inner := bytes.TrimSpace(raw)
	if len(inner) < 2 || inner[0] != '[' || inner[len(inner)-1] != ']' {
		return nil, fmt.Errorf("%w: value of %q is not a one-element array", errCorrupt, k)
	}
	inner = bytes.TrimSpace(inner[1 : len(inner)-1])
	if len(inner) == 0 || !json.Valid(inner) {
		return nil, fmt.Errorf("%w: value of %q is not a one-element array", errCorrupt, k)
	}
	return inner, nil
}

// findValue returns the value of name in a stored document, ok false when
// it holds none.
func findValue(data []byte, name string) ([]byte, bool, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, false, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	raw, ok := doc[name]
	if !ok {
		return nil, false, nil
	}
	v, err := unwrap(name, raw)
	return v, err == nil, err
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
