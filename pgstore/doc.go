// Package pgstore is a seshat.Store on PostgreSQL, through a pgx v5
// connection pool ([github.com/jackc/pgx/v5/pgxpool]).
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	store, err := pgstore.New(ctx, pool, pgstore.Options{CleanupInterval: 10 * time.Minute})
//	sm, err := seshat.New(seshat.Config{Keys: keys, Store: store})
//
// The Store implements seshat.Store and every optional capability:
// seshat.Merger, seshat.Toucher, seshat.Taker, seshat.UserIndex,
// seshat.Iterator and seshat.Cleaner. Every operation is one SQL statement with its values
// passed as parameters; the only text spliced into SQL is the table name,
// which New validates and quotes.
//
// # Table
//
// New runs these statements (for the default table name; [DDL] returns them
// for any name) unless Options.NoCreateTable is set. They are idempotent, and
// run under a transaction-scoped advisory lock so that several processes
// starting at once do not trip over each other:
//
//	CREATE TABLE IF NOT EXISTS "seshat_sessions" (
//		key        text        PRIMARY KEY,
//		data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
//		user_id    text        NOT NULL DEFAULT '',
//		expires_at timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "seshat_sessions_user_id_idx" ON "seshat_sessions" (user_id) WHERE user_id <> '';
//	CREATE INDEX IF NOT EXISTS "seshat_sessions_expires_at_idx" ON "seshat_sessions" (expires_at);
//
// key is the store key seshat passes (by default the hex SHA-256 of the
// session id), never the id itself. user_id is the owner recorded at login,
// "" for anonymous sessions (which the partial index leaves out). data is a
// JSON object that maps each session key to a JSON string holding that
// value's Flask tagged JSON, byte for byte:
//
//	{"_user_id": "\"42\"", "cart": "[1,2]", "ratio": "NaN", "_permanent": "true"}
//
// Values are strings rather than nested jsonb because jsonb does not keep
// every value Flask's tagged JSON can hold: it rejects NaN, Infinity, \u0000
// and lone surrogates, and reads a float written as 1e+16 back as the integer
// 10000000000000000. Kept as strings, every value comes back exactly as it
// was written, and a key is still addressable in SQL: data->>'cart' is the
// tagged JSON of the value, (data->>'cart')::jsonb the value itself (where
// jsonb can hold it).
//
// # Merge semantics
//
// A request that changed some keys of a stored session is saved with one
// statement that merges its changes into the row inside PostgreSQL:
//
//	UPDATE "seshat_sessions" AS s
//	SET data = (s.data - $deleted::text[]) || $set::jsonb, expires_at = $expires,
//	    user_id = CASE WHEN $setUser THEN $user ELSE s.user_id END
//	WHERE s.key = $key AND s.expires_at > $now
//
// so concurrent requests on one session that change different keys all
// persist (the row lock orders them; no read-modify-write happens in Go).
// When two requests set the same key, the one whose statement commits last
// wins. A session value that is JSON null is the string "null" in data: it
// is a value like any other, never confused with a deletion.
//
// If the row is gone (another request destroyed the session, or it
// expired), the UPDATE matches nothing and Merge returns
// seshat.ErrSessionGone: a logged-out session is never brought back. A
// Change with Create set uses INSERT ... ON CONFLICT instead: it creates the
// row, merges into a live one, and replaces an expired one.
//
// # Take
//
// seshat.Taker (Session.Take, and through it flash.Pop) is one statement
// too: an UPDATE that removes the value, joined to a sub-SELECT that locks
// the live row and reads the value from it:
//
//	UPDATE "seshat_sessions" AS s SET data = s.data - $name
//	FROM (SELECT key, data->>$name AS v FROM "seshat_sessions"
//	      WHERE key = $key AND expires_at > $now
//	        AND jsonb_typeof(data->$name) = 'string' FOR UPDATE) AS o
//	WHERE s.key = o.key
//	RETURNING o.v
//
// A second take that waited for the row lock re-checks the WHERE on the
// row the first one committed, finds the value gone and returns no row, so
// of concurrent takes exactly one gets the value. The value comes back as
// the tagged JSON it was written as, byte for byte; the expiry, the owner
// and the other values are left alone. A take that finds no value (most
// requests have no flashed message) locks and writes nothing.
//
// # Expiry and cleanup
//
// Every read has expires_at > $now in its WHERE clause, so an expired row is
// never returned, even before anything deletes it. $now is the
// application's clock (Options.Now), not the server's, so that expiry agrees
// with the Expires the session manager computed. Expired rows are deleted
// by DeleteExpired, in batches of 10000 rows, and by a background goroutine
// when Options.CleanupInterval is set; Close stops it and waits for it.
//
// # Costs
//
// Through a seshat.Manager: a request that reads a session costs one
// statement (a SELECT by primary key), one that changes it two (the SELECT
// and the merging UPDATE), a permanent session's refresh one UPDATE of
// expires_at, a Session.Take (flash.Pop) one UPDATE of its own, a login (renewal) three (SELECT, INSERT, DELETE), a logout two.
// With pgx's default statement cache, each statement is also prepared once
// per connection. Behind a transaction-pooling proxy (PgBouncer), set the
// pool's DefaultQueryExecMode to pgx.QueryExecModeExec or CacheDescribe.
//
// # Errors
//
// Errors name the operation ("pgstore: merge: ...") and wrap the driver's
// error. Failures of the connection or the server (refused or broken
// connections, timeouts and cancelled contexts, pg_terminate_backend, too
// many connections, serialization failures, statement timeouts) also wrap
// seshat.ErrStoreUnavailable, which the middleware answers with 503. A
// missing or expired row is seshat.ErrNoRecord; a data column this package
// did not write is ErrCorruptRecord. The pool recovers from dropped
// connections by itself; the Store keeps no state of its own about them.
package pgstore
