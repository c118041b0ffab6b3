// Package pgstore is a seshat.Store on PostgreSQL, through a pgx v5
// connection pool. See [New].
package pgstore
