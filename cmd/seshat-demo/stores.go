package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // mysql:// stores
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/mysqlstore"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sqlitestore"
)

// demoTable (SQL) and demoPrefix (Redis) keep the demo's sessions apart from
// those of other programs, the test suites included, on a shared server.
const (
	demoTable  = "seshat_demo_sessions"
	demoPrefix = "seshat-demo:"
)

// sessionStore is the session store a -store value names, with what the
// pages say about it.
type sessionStore struct {
	Store seshat.Store // nil in cookie mode
	Name  string       // "SQLite", "Redis", ..., "signed cookie"
	Where string       // a description without credentials
	close func()
}

// openSessionStore opens the store raw names: "" (SQLite in dataDir),
// "cookie", or a redis://, postgres:// or mysql:// URL.
func openSessionStore(ctx context.Context, raw, dataDir string) (*sessionStore, error) {
	if raw == "" || raw == "sqlite" {
		path := filepath.Join(dataDir, "demo.db")
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Table: demoTable, CleanupInterval: 10 * time.Minute})
		if err != nil {
			return nil, err
		}
		return &sessionStore{s, "SQLite", path, func() { s.Close() }}, nil
	}
	if raw == "cookie" {
		return &sessionStore{nil, "signed cookie", "Flask's signed session cookie, no server state", func() {}}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-store: not a URL (%s)", redactURL(raw))
	}
	where := redactURL(raw)
	switch u.Scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("-store %s: %s", where, strings.ReplaceAll(err.Error(), raw, where))
		}
		opt.ContextTimeoutEnabled = true
		client := redis.NewClient(opt)
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, fmt.Errorf("-store %s: %w", where, err)
		}
		s := redisstore.New(client, redisstore.Options{Prefix: demoPrefix})
		return &sessionStore{s, "Redis", where, func() { s.Close(); client.Close() }}, nil
	case "postgres", "postgresql":
		pool, err := pgxpool.New(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("-store %s: bad URL", where)
		}
		s, err := pgstore.New(ctx, pool, pgstore.Options{Table: demoTable, CleanupInterval: 10 * time.Minute})
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("-store %s: %w", where, err)
		}
		return &sessionStore{s, "PostgreSQL", where, func() { s.Close(); pool.Close() }}, nil
	case "mysql", "mariadb":
		db, err := sql.Open("mysql", mysqlDSN(u))
		if err != nil {
			return nil, fmt.Errorf("-store %s: %w", where, err)
		}
		s, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: demoTable})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("-store %s: %w", where, err)
		}
		return &sessionStore{s, "MariaDB/MySQL", where, func() { s.Close(); db.Close() }}, nil
	}
	return nil, errors.New("-store: want cookie, sqlite, or a redis://, postgres:// or mysql:// URL")
}

// mysqlDSN turns mysql://user:pass@host:port/db into the driver's DSN.
func mysqlDSN(u *url.URL) string {
	cred := u.User.Username()
	if pass, ok := u.User.Password(); ok {
		cred += ":" + pass
	}
	host := u.Host
	if host == "" {
		host = "127.0.0.1:3306"
	}
	return fmt.Sprintf("%s@tcp(%s)/%s", cred, host, strings.TrimPrefix(u.Path, "/"))
}

// redactURL returns raw with any password replaced by "xxxxx", for logs and
// pages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
