package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seshat-go/seshat/twofactor"
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
	Created    time.Time
}

// ID implements login.User: Flask-Login's get_id(), the id as a string.
func (u *user) ID() string { return strconv.FormatInt(u.id, 10) }

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
	created_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS two_factor (
	user_id TEXT NOT NULL PRIMARY KEY,
	state   TEXT NOT NULL
)`

// openUsers opens (creating it if needed) the users table in the SQLite file
// path. WAL and a busy timeout let it share the file with sqlitestore's
// connections; transactions begin IMMEDIATE (take the write lock at once),
// so a read-modify-write never fails halfway on a lock upgrade.
func openUsers(ctx context.Context, path string) (*userDB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
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

const userColumns = `id, email, password_hash, generation, created_at`

func scanUser(row *sql.Row) (*user, error) {
	var u user
	var created int64
	err := row.Scan(&u.id, &u.Email, &u.passwordHash, &u.Generation, &created)
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

// twoFactorStore keeps each user's twofactor.State as JSON in the
// two_factor table, one row per user id. It implements twofactor.Store.
type twoFactorStore struct{ db *sql.DB }

// TwoFactor returns the store of the users' second factors.
func (u *userDB) TwoFactor() twoFactorStore { return twoFactorStore{u.db} }

// Get implements twofactor.Store: the zero State for a user without one
// (or without a row).
func (s twoFactorStore) Get(ctx context.Context, userID string) (twofactor.State, error) {
	return s.get(ctx, s.db, userID)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s twoFactorStore) get(ctx context.Context, q querier, userID string) (twofactor.State, error) {
	var st twofactor.State
	var raw string
	err := q.QueryRowContext(ctx, `SELECT state FROM two_factor WHERE user_id = ?`, userID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("users: read two-factor state: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, fmt.Errorf("users: two-factor state of user %s: %w", userID, err)
	}
	return st, nil
}

// Update implements twofactor.Store in one IMMEDIATE transaction: the write
// lock is held from the read to the write, so concurrent updates of one
// user (two requests racing with one code) run one after the other.
func (s twoFactorStore) Update(ctx context.Context, userID string, fn func(*twofactor.State) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("users: begin: %w", err)
	}
	defer tx.Rollback()
	st, err := s.get(ctx, tx, userID)
	if err != nil {
		return err
	}
	if err := fn(&st); err != nil {
		return err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("users: encode two-factor state: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO two_factor (user_id, state) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET state = excluded.state`,
		userID, string(raw)); err != nil {
		return fmt.Errorf("users: save two-factor state: %w", err)
	}
	return tx.Commit()
}
