package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// user is a row of the users table. It implements login.User.
type user struct {
	id           int64
	Email        string
	passwordHash string
	// Generation counts "log out everywhere" events (a password change is
	// one). Each login records it in the session; a session carrying an
	// older generation is logged out, which revokes cookie-mode sessions
	// that no server-side store could delete.
	Generation int64
	// TOTPSecret is the base32 TOTP secret once two-factor authentication
	// is enabled, "" otherwise.
	TOTPSecret string
	Created    time.Time
}

// ID implements login.User: Flask-Login's get_id(), the id as a string.
func (u *user) ID() string { return strconv.FormatInt(u.id, 10) }

// HasTwoFactor reports whether the user must give a second factor.
func (u *user) HasTwoFactor() bool { return u.TOTPSecret != "" }

var (
	errEmailTaken = errors.New("an account with this email already exists")
	errNoUser     = errors.New("no such user")
)

// userDB keeps users in the SQLite file <data>/demo.db.
type userDB struct {
	db *sql.DB
}

const usersDDL = `CREATE TABLE IF NOT EXISTS users (
	id             INTEGER PRIMARY KEY,
	email          TEXT    NOT NULL UNIQUE,
	password_hash  TEXT    NOT NULL,
	generation     INTEGER NOT NULL DEFAULT 0,
	totp_secret    TEXT    NOT NULL DEFAULT '',
	recovery_codes TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL
)`

// openUsers opens (creating it if needed) the users table in the SQLite file
// path. WAL and a busy timeout let it share the file with sqlitestore's
// connections.
func openUsers(ctx context.Context, path string) (*userDB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("users: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, usersDDL); err != nil {
		db.Close()
		return nil, fmt.Errorf("users: create table: %w", err)
	}
	return &userDB{db: db}, nil
}

// Close closes the database.
func (u *userDB) Close() error { return u.db.Close() }

const userColumns = `id, email, password_hash, generation, totp_secret, created_at`

func scanUser(row *sql.Row) (*user, error) {
	var u user
	var created int64
	err := row.Scan(&u.id, &u.Email, &u.passwordHash, &u.Generation, &u.TOTPSecret, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("users: read: %w", err)
	}
	u.Created = time.Unix(created, 0)
	return &u, nil
}

// ByID returns the user with id, or errNoUser.
func (u *userDB) ByID(ctx context.Context, id string) (*user, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, errNoUser
	}
	return scanUser(u.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, n))
}

// ByEmail returns the user with email (normalised), or errNoUser.
func (u *userDB) ByEmail(ctx context.Context, email string) (*user, error) {
	return scanUser(u.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, normalizeEmail(email)))
}

// Create adds a user, or fails with errEmailTaken.
func (u *userDB) Create(ctx context.Context, email, passwordHash string, now time.Time) (*user, error) {
	res, err := u.db.ExecContext(ctx,
		`INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING`,
		normalizeEmail(email), passwordHash, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("users: create: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, errEmailTaken
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("users: create: %w", err)
	}
	return u.ByID(ctx, strconv.FormatInt(id, 10))
}

// SetPassword replaces the user's password hash and bumps the generation,
// which logs out every session that recorded the old one. It returns the new
// generation.
func (u *userDB) SetPassword(ctx context.Context, id, passwordHash string) (int64, error) {
	return u.bump(ctx, id, `password_hash = ?,`, passwordHash)
}

// BumpGeneration logs out every session of the user ("log out everywhere")
// and returns the new generation.
func (u *userDB) BumpGeneration(ctx context.Context, id string) (int64, error) {
	return u.bump(ctx, id, "")
}

func (u *userDB) bump(ctx context.Context, id, set string, args ...any) (int64, error) {
	var gen int64
	err := u.db.QueryRowContext(ctx,
		`UPDATE users SET `+set+` generation = generation + 1 WHERE id = ? RETURNING generation`,
		append(args, id)...).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoUser
	}
	if err != nil {
		return 0, fmt.Errorf("users: update: %w", err)
	}
	return gen, nil
}

// normalizeEmail trims and lower-cases an address, so that one person
// cannot sign up twice with different capitalisation.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validEmail is a deliberately loose check: something@something, no spaces,
// at most 254 bytes. Real applications confirm an address by mail.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && len(s) <= 254 &&
		!strings.ContainsAny(s, " \t\r\n<>\"") && !strings.Contains(domain, "@")
}
