package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/sqlident"
	"github.com/seshat-go/seshat/internal/strmap"
	"github.com/seshat-go/seshat/internal/sweep"
)

// DefaultTable is the table name used when Options.Table is empty.
const DefaultTable = "seshat_sessions"

// MaxTableNameLen is the longest table name (each part of a
// schema-qualified name) that Options.Table accepts: index names are derived
// from it and must stay within PostgreSQL's 63-byte identifiers.
const MaxTableNameLen = 48

// Batch sizes of the statements that walk many rows.
const (
	iterateBatch = 1000  // rows per page in Iterate
	deleteBatch  = 10000 // rows per DELETE in DeleteExpired
)

// ErrCorruptRecord is returned (wrapped, naming the operation and the key's
// row) when a row's data column is not the JSON object of strings this
// package writes: someone edited the table by hand, or another program
// shares it. It wraps [seshat.ErrCorruptRecord], so the middleware starts a
// fresh session rather than answering 503.
var ErrCorruptRecord = fmt.Errorf("pgstore: %w", seshat.ErrCorruptRecord)

// Options configures a [Store]. The zero value is usable: table
// "seshat_sessions", created if missing, no background cleanup.
type Options struct {
	// Table names the sessions table, optionally schema-qualified
	// ("auth.sessions"). Each part must match [A-Za-z_][A-Za-z0-9_]* and be
	// at most MaxTableNameLen bytes; it is quoted in every statement, so its
	// case is kept. Default DefaultTable.
	Table string

	// NoCreateTable skips the CREATE TABLE / CREATE INDEX statements (for a
	// role without the CREATE privilege, or a schema owned by migrations:
	// see [DDL]). New then only checks that the table has the expected
	// columns.
	NoCreateTable bool

	// CleanupInterval, when positive, starts a goroutine that deletes
	// expired rows every interval, until Close. Zero starts none: expired
	// rows are never returned anyway, and DeleteExpired can be run by hand
	// or from a scheduler.
	CleanupInterval time.Duration

	// Logger receives the failures of the background cleanup (the only
	// errors no caller sees). Nil means slog.Default().
	Logger *slog.Logger

	// Now returns the current time; nil means time.Now. Whether a row has
	// expired is decided with this clock (the application's), never the
	// database server's, so that expiry agrees with the Expires the
	// session manager computed.
	Now func() time.Time
}

// Store is a seshat.Store on a PostgreSQL table, through a pgx connection
// pool. It also implements seshat.Merger, seshat.Toucher, seshat.Taker,
// seshat.UserIndex, seshat.Iterator and seshat.Cleaner. A Store is safe for
// concurrent use; every method is a single SQL statement (DeleteExpired and
// Iterate repeat one in bounded batches).
type Store struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	logger *slog.Logger
	q      queries

	closeOnce sync.Once
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
	take                                  string
	list, revoke, iterFirst, iterNext, gc string
	check, lock                           string
	ddl                                   []string
}

func buildQueries(table string) (queries, error) {
	parts, err := splitTable(table)
	if err != nil {
		return queries{}, err
	}
	t := pgx.Identifier(parts).Sanitize()
	base := parts[len(parts)-1]
	idx := func(suffix string) string { return pgx.Identifier{base + suffix}.Sanitize() }
	return queries{
		ddl: []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
	key        text        PRIMARY KEY,
	data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
	user_id    text        NOT NULL DEFAULT '',
	expires_at timestamptz NOT NULL
)`,
			`CREATE INDEX IF NOT EXISTS ` + idx("_user_id_idx") + ` ON ` + t + ` (user_id) WHERE user_id <> ''`,
			`CREATE INDEX IF NOT EXISTS ` + idx("_expires_at_idx") + ` ON ` + t + ` (expires_at)`,
		},
		lock:  `SELECT pg_advisory_xact_lock(hashtext($1))`,
		check: `SELECT key, data, user_id, expires_at FROM ` + t + ` LIMIT 0`,
		load:  `SELECT data, user_id, expires_at FROM ` + t + ` WHERE key = $1 AND expires_at > $2`,
		save: `INSERT INTO ` + t + ` AS s (key, data, user_id, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, user_id = EXCLUDED.user_id, expires_at = EXCLUDED.expires_at`,
		del: `DELETE FROM ` + t + ` WHERE key = $1`,
		// $1 key, $2 keys to delete, $3 keys to set, $4 expires,
		// $5 whether to set the owner, $6 the owner, $7 now.
		merge: `UPDATE ` + t + ` AS s SET data = (s.data - $2::text[]) || $3::jsonb, expires_at = $4,
	user_id = CASE WHEN $5::boolean THEN $6::text ELSE s.user_id END
WHERE s.key = $1 AND s.expires_at > $7`,
		// A Create on top of an expired row starts from nothing: neither
		// its values nor its owner survive.
		create: `INSERT INTO ` + t + ` AS s (key, data, user_id, expires_at)
VALUES ($1, $3::jsonb, CASE WHEN $5::boolean THEN $6::text ELSE '' END, $4)
ON CONFLICT (key) DO UPDATE SET
	data = CASE WHEN s.expires_at > $7 THEN (s.data - $2::text[]) || $3::jsonb ELSE EXCLUDED.data END,
	expires_at = EXCLUDED.expires_at,
	user_id = CASE WHEN $5::boolean THEN $6::text WHEN s.expires_at > $7 THEN s.user_id ELSE '' END`,
		touch: `UPDATE ` + t + ` SET expires_at = $2 WHERE key = $1 AND expires_at > $3`,
		// $1 key, $2 the value's name, $3 now. The sub-SELECT locks the
		// row and reads the value; when a concurrent take locked it first,
		// PostgreSQL re-checks the WHERE on the row that take committed,
		// where the value is gone, so exactly one take returns it. Only a
		// string (what Save and Merge write) is taken: a row edited by hand
		// is left for Load to report as corrupt.
		take: `UPDATE ` + t + ` AS s SET data = s.data - $2::text
FROM (SELECT key, data->>$2::text AS v FROM ` + t + `
	WHERE key = $1 AND expires_at > $3 AND jsonb_typeof(data->$2::text) = 'string' FOR UPDATE) AS o
WHERE s.key = o.key
RETURNING o.v`,
		list:      `SELECT key, expires_at FROM ` + t + ` WHERE user_id = $1 AND user_id <> '' AND expires_at > $2 ORDER BY expires_at, key`,
		revoke:    `WITH d AS (DELETE FROM ` + t + ` WHERE user_id = $1 AND user_id <> '' RETURNING expires_at) SELECT count(*) FILTER (WHERE expires_at > $2) FROM d`,
		iterFirst: `SELECT key, user_id, expires_at FROM ` + t + ` WHERE expires_at > $1 ORDER BY key LIMIT ` + fmt.Sprint(iterateBatch),
		iterNext:  `SELECT key, user_id, expires_at FROM ` + t + ` WHERE key > $2 AND expires_at > $1 ORDER BY key LIMIT ` + fmt.Sprint(iterateBatch),
		gc:        `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` WHERE expires_at <= $1 LIMIT ` + fmt.Sprint(deleteBatch) + `)`,
	}, nil
}

// splitTable validates a table name and splits it into its schema and
// table parts.
func splitTable(name string) ([]string, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return nil, fmt.Errorf("pgstore: table name %q: at most one dot (schema.table)", name)
	}
	for _, p := range parts {
		if !sqlident.Valid(p, MaxTableNameLen) {
			return nil, fmt.Errorf("pgstore: table name %q: each part must match [A-Za-z_][A-Za-z0-9_]* and be 1 to %d bytes", name, MaxTableNameLen)
		}
	}
	return parts, nil
}

// DDL returns the statements New runs to create the table named table
// (DefaultTable when empty) and its indexes, for a migration tool. Each is
// idempotent.
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

// New returns a Store on pool. Unless opts.NoCreateTable is set, it creates
// the table and its indexes if they do not exist (under an advisory lock,
// so that several processes starting at once do not race). The pool stays
// the caller's: Close does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: new: nil pool")
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	q, err := buildQueries(table)
	if err != nil {
		return nil, err
	}
	if opts.CleanupInterval < 0 {
		return nil, fmt.Errorf("pgstore: new: negative CleanupInterval %v", opts.CleanupInterval)
	}
	s := &Store{pool: pool, now: opts.Now, logger: opts.Logger, q: q}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if opts.NoCreateTable {
		if _, err := pool.Exec(ctx, q.check); err != nil {
			return nil, wrap("new: check table", err)
		}
	} else if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q.lock, "seshat.pgstore."+table); err != nil {
			return err
		}
		for _, stmt := range q.ddl {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, wrap("new: create table", err)
	}
	if opts.CleanupInterval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stop, s.done = cancel, make(chan struct{})
		go sweep.Every(ctx, opts.CleanupInterval, s.done, s.DeleteExpired, func(err error) {
			s.logger.Error("pgstore: background cleanup failed", "err", err.Error())
		})
	}
	return s, nil
}

// Close stops the background cleanup, if any, and waits for it to return.
// It does not close the pool. Calling Close again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.done
		}
	})
	return nil
}

// Load returns the record under key, or an error wrapping
// seshat.ErrNoRecord when there is none or it has expired (rows are
// filtered on expires_at, whether or not they have been cleaned up yet).
func (s *Store) Load(ctx context.Context, key string) (*seshat.Record, error) {
	var (
		data []byte
		rec  seshat.Record
	)
	err := s.pool.QueryRow(ctx, s.q.load, key, s.now()).Scan(&data, &rec.UserID, &rec.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: load: %w", seshat.ErrNoRecord)
	}
	if err != nil {
		return nil, wrap("load", err)
	}
	rec.Values, err = strmap.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("pgstore: load: %w: %w", ErrCorruptRecord, err)
	}
	return &rec, nil
}

// Save writes rec under key, replacing any row there (expired or not).
func (s *Store) Save(ctx context.Context, key string, rec *seshat.Record) error {
	data, err := strmap.Encode(rec.Values)
	if err != nil {
		return fmt.Errorf("pgstore: save: %w", err)
	}
	if _, err := s.pool.Exec(ctx, s.q.save, key, data, rec.UserID, rec.Expires); err != nil {
		return wrap("save", err)
	}
	return nil
}

// Delete removes the row under key; a missing row is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, s.q.del, key); err != nil {
		return wrap("delete", err)
	}
	return nil
}

// Merge applies one request's changes to the row under key in a single
// statement: data = (data - deleted keys) || set keys, plus the new expiry
// and, when ch.SetUser, the new owner. Keys the change does not name keep
// whatever concurrent requests wrote to them; for a key two requests both
// set, the statement that commits last wins.
//
// Without ch.Create, a missing or expired row is left alone and Merge
// returns an error wrapping seshat.ErrSessionGone. With ch.Create, a missing
// or expired row is replaced by a new one holding ch.Set.
func (s *Store) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	set, err := strmap.Encode(ch.Set)
	if err != nil {
		return fmt.Errorf("pgstore: merge: %w", err)
	}
	del := ch.Delete
	if del == nil {
		del = []string{}
	}
	for _, k := range del {
		if err := strmap.CheckKey(k); err != nil {
			return fmt.Errorf("pgstore: merge: %w", err)
		}
	}
	q := s.q.merge
	if ch.Create {
		q = s.q.create
	}
	tag, err := s.pool.Exec(ctx, q, key, del, set, ch.Expires, ch.SetUser, ch.UserID, s.now())
	if err != nil {
		return wrap("merge", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: merge: %w", seshat.ErrSessionGone)
	}
	return nil
}

// Touch moves the expiry of the live row under key to expires, without
// rewriting its data. A missing or expired row gives an error wrapping
// seshat.ErrNoRecord.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	tag, err := s.pool.Exec(ctx, s.q.touch, key, expires, s.now())
	if err != nil {
		return wrap("touch", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: touch: %w", seshat.ErrNoRecord)
	}
	return nil
}

// Take removes the value name from the live row under key and returns its
// tagged JSON, in one statement: an UPDATE of data = data - name, joined to
// a sub-SELECT ... FOR UPDATE that reads the value from the locked row.
// Of several concurrent Takes of one value exactly one gets it. ok is
// false, with a nil error, when the row is missing or expired or holds no
// such value; the expiry, the owner and the other values are left alone.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, bool, error) {
	if strmap.CheckKey(name) != nil {
		return nil, false, nil // no row can hold such a name: Save refuses it
	}
	var v []byte
	err := s.pool.QueryRow(ctx, s.q.take, key, name, s.now()).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("take", err)
	}
	return v, true, nil
}

// ListByUser returns the live sessions owned by userID, soonest expiry
// first, through the index on user_id. Anonymous sessions (owner "") are
// never listed: an empty userID gives none.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, s.q.list, userID, s.now())
	if err != nil {
		return nil, wrap("list by user", err)
	}
	var out []seshat.SessionInfo
	var info seshat.SessionInfo
	info.UserID = userID
	_, err = pgx.ForEachRow(rows, []any{&info.Key, &info.Expires}, func() error {
		out = append(out, info)
		return nil
	})
	if err != nil {
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
	var n int64
	if err := s.pool.QueryRow(ctx, s.q.revoke, userID, s.now()).Scan(&n); err != nil {
		return 0, wrap("revoke user", err)
	}
	return int(n), nil
}

// Iterate calls fn for every live session, in key order, reading pages of
// 1000 rows by key; no connection is held while fn runs, so fn may call the
// store (to revoke a session, say). Sessions created or deleted during the
// walk may or may not be seen. An error from fn stops the walk and is
// returned as is.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	page := make([]seshat.SessionInfo, 0, iterateBatch)
	last := ""
	for first := true; ; first = false {
		var (
			rows pgx.Rows
			err  error
		)
		if first {
			rows, err = s.pool.Query(ctx, s.q.iterFirst, s.now())
		} else {
			rows, err = s.pool.Query(ctx, s.q.iterNext, s.now(), last)
		}
		if err != nil {
			return wrap("iterate", err)
		}
		page = page[:0]
		var info seshat.SessionInfo
		_, err = pgx.ForEachRow(rows, []any{&info.Key, &info.UserID, &info.Expires}, func() error {
			page = append(page, info)
			return nil
		})
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
// 10000 rows (each its own statement, so no long transaction holds locks),
// and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	now := s.now()
	for {
		tag, err := s.pool.Exec(ctx, s.q.gc, now)
		if err != nil {
			return total, wrap("delete expired", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < deleteBatch {
			return total, nil
		}
	}
}

// wrap names the operation and marks failures of the connection or the
// server (as opposed to a bad statement or bad data) with
// seshat.ErrStoreUnavailable.
func wrap(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("pgstore: %s: %w: %w", op, seshat.ErrStoreUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// unavailable reports whether err comes from the connection or the state of
// the server rather than from the statement: everything that is not a
// server error (dial failures, broken connections, timeouts, cancelled
// contexts, a closed pool) and the server errors of classes 08 (connection
// exception), 40 (transaction rollback: serialization failure, deadlock),
// 53 (insufficient resources: too many connections, disk full), 55P03 (lock
// not available), 57 (operator intervention: admin shutdown,
// pg_terminate_backend, statement timeout) and 58 (system error).
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return true
	}
	switch {
	case pgErr.Code == "55P03":
		return true
	case len(pgErr.Code) != 5:
		return false
	}
	switch pgErr.Code[:2] {
	case "08", "40", "53", "57", "58":
		return true
	}
	return false
}
