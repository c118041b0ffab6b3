// Package filestore is a [seshat.Store] that keeps each session in its own
// file in one directory. It needs nothing but a local filesystem, suits a
// single server (or several processes on one host, with the caveat below),
// and implements every optional capability: [seshat.Merger],
// [seshat.Toucher], [seshat.Taker], [seshat.UserIndex], [seshat.Iterator]
// and [seshat.Cleaner].
//
// # Layout
//
// The directory given to [New] holds:
//
//	<dir>/<key>                 one session; key is what seshat passes
//	<dir>/users/<uh>/<key>      an empty marker: session <key> belongs to
//	                            the user whose SHA-256 (hex) is <uh>
//	<dir>/.tmp-*                a write in progress (or left by a crash)
//
// The directory is created with mode 0700 when missing; [New] refuses an
// existing one that group or others may write to, since whoever can write
// there can plant sessions. Every file is created with mode 0600.
//
// # Keys
//
// A key must be exactly 64 lowercase hexadecimal characters, the shape of
// seshat's default store key (the hex SHA-256 of the session id). Anything
// else — "../x", "a/b", a NUL byte, upper case, a longer or shorter string —
// is refused with [ErrInvalidKey] before any path is built, so no key can
// name a file outside the directory, a temporary file, the users folder, or a
// name that a case-insensitive filesystem would fold onto another session
// (SID-03, gorilla/sessions GO-2024-2730). An [seshat.IDScheme] whose keys
// have another shape cannot use this store.
//
// # File format
//
// A session file is one JSON object:
//
//	{"v":1,"expires":"2026-01-02T15:04:05.123456789Z","user":"alice",
//	 "values":{"cart":[1,2],"_permanent":true}}
//
// "v" is the format version (1). "expires" is the record's expiry in RFC
// 3339 with nanoseconds, UTC. "user" is the owner, omitted for anonymous
// sessions. "values" maps each session key to its value in Flask's tagged
// JSON, embedded as JSON (so every value must be valid JSON; a value that is
// not is refused). Readers must ignore members they do not know.
//
// # Atomicity and durability
//
// Every write goes to a new temporary file in the same directory
// (".tmp-<random>"), which is written, flushed with fsync, closed and then
// renamed over the session file; the directory is then fsynced so the rename
// survives a crash. A reader therefore sees either the old or the new
// session, never a torn one. [Options].NoSync skips the fsyncs (for tests and
// tmpfs): a crash may then lose recent writes or bring back deleted sessions.
//
// Merge, Touch and Take read, change and rewrite a file under a per-key
// lock: the key selects one of 256 locks (a fixed array, so memory does not
// grow with the number of sessions). Within one process, concurrent merges
// of one session that change different keys therefore all persist, and of
// concurrent Takes of one value (Session.Take, flash.Pop) exactly one gets
// it. The locks do not reach other processes: several processes sharing one
// directory see atomic writes but the last writer wins between them, so one
// of two concurrent merges from different processes may be lost, and two
// concurrent Takes from different processes may both get a value. Run one
// process per directory when that matters, or use a database store.
//
// Take first reads the file without the lock, so a Take that finds nothing
// (no live session, or no such value: most pages that show flashed
// messages) costs one small read, like Load, and writes nothing; taking a
// value costs that read plus what a Merge costs (a second read under the
// lock, a temporary file, the fsyncs and the rename).
//
// # User index
//
// The owner of each session is indexed by an empty marker file in a
// directory per user (users/<sha256 of user id>/<key>), created and fsynced
// before the session file that names the owner, and removed when the session
// is deleted, revoked, re-owned or cleaned up. ListByUser and RevokeUser read
// only that user's directory and that user's session files: their cost is
// one directory read plus one small file read per session of the user,
// independent of how many other sessions the store holds. A marker whose
// session is gone or belongs to someone else (after a crash, say) is ignored
// by the listing and pruned by DeleteExpired. Anonymous sessions (owner "")
// are not indexed.
//
// # Expiry and cleanup
//
// A session whose expiry has passed is never returned, listed or iterated,
// whether or not it has been cleaned up. DeleteExpired removes the files of
// expired sessions, their user markers, stale markers, and temporary files a
// crash left behind; it reads every session file, so its cost is linear in
// the number of sessions. New starts a background goroutine that calls it
// every [Options].CleanupInterval (default [DefaultCleanupInterval]; a
// negative interval disables it), and [Store.Close] stops that goroutine.
package filestore
