// Package sqlitestore is a seshat.Store in an SQLite database file, on
// modernc.org/sqlite (pure Go: no cgo, no system library).
//
//	store, err := sqlitestore.Open(ctx, "sessions.db", sqlitestore.Options{CleanupInterval: 10 * time.Minute})
//	defer store.Close()
//	sm, err := seshat.New(seshat.Config{Keys: keys, Store: store})
//
// The Store implements seshat.Store and every optional capability:
// seshat.Merger, seshat.Toucher, seshat.Taker, seshat.UserIndex,
// seshat.Iterator and seshat.Cleaner. Every operation is one SQL statement
// (Take: one transaction) with its values passed as parameters; the only
// text spliced into SQL is the table name, which Open validates and quotes.
//
// # Connections
//
// Open puts the file in WAL mode (readers never wait for the writer, and
// the writer never waits for readers) and opens two pools on it:
//
//   - one writer connection, with synchronous=NORMAL (WAL's recommended
//     level: a power cut may lose the last commits but never corrupts the
//     file) and BEGIN IMMEDIATE for transactions. All of this process's
//     writes queue for it in Go, under their request contexts, instead of
//     racing for SQLite's lock and failing with SQLITE_BUSY;
//   - Options.MaxReaders read-only connections (query_only) for Load,
//     ListByUser and Iterate, which run in parallel with the writer.
//
// Both set busy_timeout (Options.BusyTimeout, 5 s by default), which covers
// writers of other processes on the same file: a statement waits that long
// for their lock before failing, and the failure wraps
// seshat.ErrStoreUnavailable.
//
// # Table
//
// Open runs these statements (for the default table name; [DDL] returns
// them for any name). They are idempotent:
//
//	CREATE TABLE IF NOT EXISTS "seshat_sessions" (
//		key        TEXT    NOT NULL PRIMARY KEY,
//		data       TEXT    NOT NULL DEFAULT '{}',
//		user_id    TEXT    NOT NULL DEFAULT '',
//		expires_at INTEGER NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "seshat_sessions_user_id_idx" ON "seshat_sessions" (user_id) WHERE user_id <> '';
//	CREATE INDEX IF NOT EXISTS "seshat_sessions_expires_at_idx" ON "seshat_sessions" (expires_at);
//
// key is the store key seshat passes (by default the hex SHA-256 of the
// session id), never the id itself. user_id is the owner recorded at login,
// "" for anonymous sessions. expires_at is Unix time in microseconds
// (datetime(expires_at / 1000000, 'unixepoch') shows it). data is JSON text:
// an object that maps each session key to a JSON string holding that
// value's Flask tagged JSON, byte for byte:
//
//	{"_user_id":"\"42\"","cart":"[1,2]","ratio":"NaN","_permanent":"true"}
//
// so every value comes back exactly as written (SQLite's JSON functions
// would read NaN and Infinity as JSON5 and write them back as null and
// 9e999), and json_extract(data, '$.cart') still gives a value's tagged JSON.
//
// # Merge semantics
//
// A request that changed some keys of a stored session is saved with one
// UPDATE that rebuilds the data object inside SQLite:
//
//	data = (SELECT json_group_object(k, v) FROM (
//		SELECT key AS k, value AS v FROM json_each(data)
//		WHERE key NOT IN (SELECT value FROM json_each(<keys deleted or set>))
//		UNION ALL
//		SELECT key, value FROM json_each(<keys set, with their values>)))
//
// with WHERE key = ? AND expires_at > <now>. It works on object keys as
// data, so a key may hold any character (no JSON path is built from it),
// and it is not JSON merge-patch (json_patch), which would delete a key
// whose new value is JSON null: here a null value is the string "null",
// kept like any other. Concurrent requests on one session that change
// different keys all persist, since each merge reads and writes the row
// inside one statement under SQLite's write lock; when two requests set the
// same key, the later write wins.
//
// If the row is gone (another request destroyed the session, or it
// expired), the UPDATE matches nothing and Merge returns
// seshat.ErrSessionGone: a logged-out session is never brought back. A
// Change with Create set uses INSERT ... ON CONFLICT instead: it creates the
// row, merges into a live one, and replaces an expired one.
//
// # Take
//
// Take (seshat.Taker, behind Session.Take and flash.Pop) removes one value
// and returns it, so that of concurrent requests exactly one gets it. A
// reader first looks the value up:
//
//	SELECT e.value, e.type FROM t, json_each(t.data) AS e
//	WHERE t.key = ? AND t.expires_at > <now> AND e.key = ?
//
// When it is not there (a page showing flashed messages when there are
// none) that one indexed read is the whole cost, and the writer is never
// waited for. When it is, a transaction on the writer (BEGIN IMMEDIATE, so
// other processes' writers wait as well) runs the same SELECT again and
// then rebuilds the data object without it:
//
//	UPDATE t SET data = (SELECT json_group_object(e.key, e.value)
//		FROM json_each(t.data) AS e WHERE e.key <> ?) WHERE key = ?
//
// so a taken value costs one read, one write transaction of two statements
// and a commit, about a Merge and a half. The name is matched as an object
// key, never spliced into a JSON path, so it may hold quotes, dots or '$'.
// The expiry, the owner and the other values are left alone; a Take that
// finds no live row or no such value reports ok false, with no error.
//
// # Expiry and cleanup
//
// Every read has expires_at > <now> in its WHERE clause, so an expired row is
// never returned, even before anything deletes it; <now> comes from
// Options.Now. Expired rows are deleted by DeleteExpired, in batches of 1000
// rows, and by a background goroutine when Options.CleanupInterval is set;
// Close stops it, waits for it, and closes the database.
//
// # Errors
//
// Errors name the operation ("sqlitestore: merge: ...") and wrap the
// driver's error. Engine failures (busy timeout exceeded, I/O errors, a full
// disk, a corrupt file, a closed Store, a cancelled or expired context) also
// wrap seshat.ErrStoreUnavailable, which the middleware answers with 503. A
// missing or expired row is seshat.ErrNoRecord; a data column this package
// did not write is ErrCorruptRecord.
package sqlitestore
