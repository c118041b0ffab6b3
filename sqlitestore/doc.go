// Package sqlitestore is a seshat.Store in an SQLite database file, on
// modernc.org/sqlite (pure Go). See [Open].
package sqlitestore
