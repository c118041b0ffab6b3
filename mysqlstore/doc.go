// Package mysqlstore is a [seshat.Store] on MariaDB or MySQL, through
// database/sql and github.com/go-sql-driver/mysql. It implements every
// optional capability: [seshat.Merger] (one atomic statement per request),
// [seshat.Toucher], [seshat.Taker] (one transaction), [seshat.UserIndex],
// [seshat.Iterator] and [seshat.Cleaner], plus a background cleaner that
// [Store.Close] stops.
//
//	db, err := sql.Open("mysql", "app:secret@tcp(db:3306)/app")
//	store, err := mysqlstore.New(ctx, db, mysqlstore.Options{})
//	sm, err := seshat.New(seshat.Config{Keys: keys, Store: store})
//
// The DSN needs no particular parameters: times are stored as integers
// (parseTime and loc do not matter) and the statements do not depend on
// clientFoundRows or interpolateParams.
//
// # Table
//
// [New] runs, unless Options.NoCreateTable is set (this is [DDL] for the
// default table name):
//
//	CREATE TABLE IF NOT EXISTS `seshat_sessions` (
//	  id         VARBINARY(255)  NOT NULL,
//	  data       JSON            NOT NULL,
//	  user_id    VARBINARY(255)  NOT NULL DEFAULT '',
//	  expires_at BIGINT          NOT NULL,
//	  rev        BIGINT UNSIGNED NOT NULL DEFAULT 0,
//	  PRIMARY KEY (id),
//	  KEY user_expires (user_id, expires_at),
//	  KEY expires (expires_at)
//	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
//
// id is the store key seshat passes (the hex SHA-256 of the session id by
// default; any key of 1 to 255 bytes is accepted, so Flask-Session-style
// keys fit too). id and user_id are binary strings, so they compare byte for
// byte: no case folding, no trailing-space padding, no collation surprises in
// "log out everywhere". expires_at is the expiry in Unix microseconds. rev
// counts the writes to the row; it makes every UPDATE that matches a row
// change it, so the affected-row count tells "no live session" from
// "nothing changed" whatever the DSN says.
//
// data holds the values as {"key":[value], ...}: each value, in Flask's
// tagged JSON, wrapped in a one-element array. The wrapping lets a JSON null
// value survive JSON_MERGE_PATCH, which reads a null member as "remove". On
// MariaDB the JSON type is LONGTEXT with a JSON_VALID check and the text of
// each value is kept; MySQL's binary JSON may reformat values (the same
// JSON, re-serialized). A value must be valid JSON nested at most
// [MaxValueDepth] levels (MariaDB's JSON functions stop at 32 levels, the
// wrapping takes two, and one is spare); anything else is refused before it
// reaches the server.
//
// # Statements
//
// Every statement is prepared once by New, and every value from a caller
// (key, owner, values, times) is a parameter: no caller data is ever part of
// statement text. The table name is checked to be a plain identifier and
// quoted. Expiry is compared with Options.Now (the application's clock),
// passed as a parameter, so the database server's clock and time zone play
// no part.
//
// Load never returns an expired row, cleaned up or not:
//
//	SELECT data, user_id, expires_at FROM t WHERE id = ? AND expires_at > ?
//
// Merge of an existing session (Change.Create false) is one UPDATE; no
// matching live row means the session was destroyed meanwhile, and Merge
// returns [seshat.ErrSessionGone] having written nothing:
//
//	UPDATE t FORCE INDEX (PRIMARY)
//	SET data = JSON_MERGE_PATCH(data, ?), [user_id = ?,]
//	    expires_at = ?, rev = rev + 1
//	WHERE id = ? AND expires_at > ?
//
// FORCE INDEX keeps the optimizer from reaching the row through the
// expires_at index (MariaDB does, by range scan or index intersection, on
// small tables): that takes the row's locks in the other order and
// deadlocks concurrent merges of one session.
//
// The patch parameter is a JSON merge patch (RFC 7396) built from the
// change: {"deleted":null, "set":[value]} (a key both set and deleted ends
// up set). Merge of a new session (Change.Create true) is one INSERT that
// patches a live row, replaces an expired one, or inserts:
//
//	INSERT INTO t (id, data, user_id, expires_at, rev) VALUES (?, ?, ?, ?, 0)
//	ON DUPLICATE KEY UPDATE
//	  data = IF(expires_at > ?, JSON_MERGE_PATCH(data, ?), ?),
//	  user_id = ?,            -- or IF(expires_at > ?, user_id, '') without SetUser
//	  expires_at = ?, rev = rev + 1
//
// expires_at is assigned last, so the conditions before it see the old
// expiry under both MySQL's left-to-right assignment and MariaDB's
// SIMULTANEOUS_ASSIGNMENT mode. Each statement is atomic under InnoDB's row
// lock, so concurrent requests that change different keys of one session all
// persist. A statement that InnoDB rolls back as a deadlock victim is run
// again, after a short random pause (up to five runs in all).
//
// Take (behind Session.Take and flash.Pop) removes one value and returns
// it, so that of concurrent requests exactly one gets it. It first runs
// Load's SELECT, a plain lock-free read: when the row is not live or holds
// no such value (a page showing flashed messages when there are none),
// that one round trip is the whole cost. Otherwise it runs one
// transaction:
//
//	SELECT data FROM t FORCE INDEX (PRIMARY) WHERE id = ? AND expires_at > ? FOR UPDATE
//	UPDATE t FORCE INDEX (PRIMARY) SET data = JSON_MERGE_PATCH(data, ?), rev = rev + 1 WHERE id = ?
//
// The SELECT locks the row and reads its latest document; the value is
// found in it by Go, and the UPDATE removes it with the patch {"name":null}
// (no JSON path is built from the name, which may hold any character). A
// concurrent Take waits for the row lock and then finds the value gone.
// The expiry, the owner and the other values are left alone. A taken value
// thus costs five round trips (the read, START TRANSACTION, the two
// statements, COMMIT) and one commit; a transaction rolled back as a
// deadlock victim runs again, like the other writes.
//
// Save is INSERT ... ON DUPLICATE KEY UPDATE of the whole row; Touch is
// "UPDATE t FORCE INDEX (PRIMARY) SET expires_at = ?, rev = rev + 1 WHERE
// id = ? AND expires_at > ?". ListByUser selects by user_id through the
// (user_id, expires_at) index and sees only live rows. Iterate reads pages
// of 500 rows in key order ("WHERE id > ? AND expires_at > ? ORDER BY id
// LIMIT ?").
//
// RevokeUser and DeleteExpired never delete by scanning an index range: such
// a DELETE locks the row just past the range too, which may be a live
// session that a merge is changing, and the two deadlock. They first read
// the keys (a plain, lock-free read: "SELECT id FROM t WHERE expires_at <= ?
// ORDER BY expires_at LIMIT 1000", or the ListByUser query), then delete
// those rows by key while they still qualify ("DELETE FROM t WHERE id IN
// (?, ...) AND expires_at <= ?", or "AND user_id = ? AND expires_at > ?"),
// at most 1000 per statement, so no statement holds many locks for long.
// With several application instances, each one's cleaner runs these
// deletes; that is safe, or disable the cleaner (negative
// Options.CleanupInterval) on all but one.
//
// # Errors
//
// Any error from the database — connection refused or lost, timeout, lock
// wait, any server error — is returned wrapped with
// [seshat.ErrStoreUnavailable], so the middleware answers 503 rather than
// treating the user as logged out; database/sql reconnects by itself when
// the server is back. Invalid input (a key of 0 or more than 255 bytes, an
// owner over 255 bytes, a value that is not JSON or too deep) gives a plain
// error before any statement runs.
//
// The package is tested against MariaDB 10.11. The statements are also
// valid MySQL 8 (JSON_MERGE_PATCH, ON DUPLICATE KEY UPDATE without
// VALUES(), index hints in UPDATE), but no test has run on MySQL.
package mysqlstore
