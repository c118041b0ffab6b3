package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/go-sql-driver/mysql" // mysql:// stores
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
	"github.com/seshat-go/seshat/mysqlstore"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sqlitestore"
)

const sessionsUsage = `usage: seshat sessions list --store URL [--user ID]
       seshat sessions revoke --store URL (--id KEY | --user ID)

Lists or revokes the sessions a seshat store holds. URL is one of
  redis://[user:password@]host:port[/db]   (a Redis or Valkey server)
  postgres://user@host:port/db             (PostgreSQL)
  mysql://user[:password]@host:port/db     (MariaDB or MySQL)
  sqlite:PATH                              (an SQLite file)
  file:DIR                                 (a filestore directory)
using each store's default key prefix or table name. The URL may also come
from SESHAT_STORE, so that a password need not sit in the process list.

list prints one session a line: its store KEY (a hash of the session id:
it cannot be used to take over the session), the owner and the expiry.
--user lists one user's sessions through the store's user index; without it
every session is walked.

revoke deletes one session by the KEY list printed (--id), or every session
of a user (--user, "log out everywhere"), and prints how many it deleted.
`

var sessionsCmd = &command{
	name:    "sessions",
	summary: "list or revoke server-side sessions",
	usage:   sessionsUsage,
	run:     runSessions,
}

var (
	sessionsListCmd   = &command{name: "sessions list", usage: sessionsUsage, run: runSessionsList}
	sessionsRevokeCmd = &command{name: "sessions revoke", usage: sessionsUsage, run: runSessionsRevoke}
)

func runSessions(c *cli, cmd *command, args []string) int {
	if len(args) == 0 {
		return usageError(c, cmd, "want a subcommand: list or revoke")
	}
	switch args[0] {
	case "list":
		return runSessionsList(c, sessionsListCmd, args[1:])
	case "revoke":
		return runSessionsRevoke(c, sessionsRevokeCmd, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, cmd.usage)
		return exitOK
	}
	return usageError(c, cmd, "unknown subcommand %q (want list or revoke)", args[0])
}

func runSessionsList(c *cli, cmd *command, args []string) int {
	fs := newFlagSet(cmd.name)
	storeURL := fs.String("store", "", "store URL")
	user := fs.String("user", "", "list only this user's sessions")
	pos, st, ok := parse(c, cmd, fs, args)
	if !ok {
		return st
	}
	if len(pos) != 0 {
		return usageError(c, cmd, "unexpected argument %q", pos[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, closeStore, err := openStore(ctx, c, *storeURL)
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	defer closeStore()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tUSER\tEXPIRES")
	print := func(in seshat.SessionInfo) error {
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\n", in.Key, in.UserID, in.Expires.UTC().Format(time.RFC3339))
		return err
	}
	if *user != "" {
		ui, ok := store.(seshat.UserIndex)
		if !ok {
			return fail(c, cmd, "this store keeps no per-user index")
		}
		infos, err := ui.ListByUser(ctx, *user)
		if err != nil {
			return fail(c, cmd, err.Error())
		}
		for _, in := range infos {
			print(in)
		}
	} else {
		it, ok := store.(seshat.Iterator)
		if !ok {
			return fail(c, cmd, "this store cannot list its sessions")
		}
		if err := it.Iterate(ctx, print); err != nil {
			return fail(c, cmd, err.Error())
		}
	}
	tw.Flush()
	return exitOK
}

func runSessionsRevoke(c *cli, cmd *command, args []string) int {
	fs := newFlagSet(cmd.name)
	storeURL := fs.String("store", "", "store URL")
	id := fs.String("id", "", "the KEY of one session, as list prints it")
	user := fs.String("user", "", "revoke every session of this user")
	pos, st, ok := parse(c, cmd, fs, args)
	if !ok {
		return st
	}
	if len(pos) != 0 {
		return usageError(c, cmd, "unexpected argument %q", pos[0])
	}
	if (*id == "") == (*user == "") {
		return usageError(c, cmd, "give exactly one of --id and --user")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, closeStore, err := openStore(ctx, c, *storeURL)
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	defer closeStore()
	if *id != "" {
		if _, err := store.Load(ctx, *id); errors.Is(err, seshat.ErrNoRecord) {
			fmt.Fprintln(c.stdout, 0)
			return exitOK
		} else if err != nil {
			return fail(c, cmd, err.Error())
		}
		if err := store.Delete(ctx, *id); err != nil {
			return fail(c, cmd, err.Error())
		}
		fmt.Fprintln(c.stdout, 1)
		return exitOK
	}
	ui, ok := store.(seshat.UserIndex)
	if !ok {
		return fail(c, cmd, "this store keeps no per-user index")
	}
	n, err := ui.RevokeUser(ctx, *user)
	if err != nil {
		return fail(c, cmd, err.Error())
	}
	fmt.Fprintln(c.stdout, n)
	return exitOK
}

// openStore opens the store a URL names. The returned func releases the
// store and the client or pool made for it.
func openStore(ctx context.Context, c *cli, raw string) (seshat.Store, func(), error) {
	if raw == "" {
		raw = c.env("SESHAT_STORE")
	}
	if raw == "" {
		return nil, nil, errors.New("no store: give --store URL or SESHAT_STORE")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return nil, nil, errors.New("store URL has no scheme")
	}
	switch scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("store URL: %w", redactErr(err, raw))
		}
		client := redis.NewClient(opt)
		s := redisstore.New(client, redisstore.Options{})
		return s, func() { s.Close(); client.Close() }, nil
	case "postgres", "postgresql":
		pool, err := pgxpool.New(ctx, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("store URL: %w", redactErr(err, raw))
		}
		s, err := pgstore.New(ctx, pool, pgstore.Options{NoCreateTable: true})
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); pool.Close() }, nil
	case "mysql":
		dsn, err := mysqlDSN(raw)
		if err != nil {
			return nil, nil, err
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, nil, err
		}
		s, err := mysqlstore.New(ctx, db, mysqlstore.Options{NoCreateTable: true, CleanupInterval: -1})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); db.Close() }, nil
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("sqlite store: %w", err)
		}
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	case "file":
		dir := strings.TrimPrefix(rest, "//")
		if _, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("file store: %w", err)
		}
		s, err := filestore.New(dir, filestore.Options{CleanupInterval: -1})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown store scheme %q (want redis, postgres, mysql, sqlite or file)", scheme)
}

// mysqlDSN turns mysql://user:pass@host:port/db into the driver's DSN.
func mysqlDSN(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("store URL: %w", redactErr(err, raw))
	}
	pass, _ := u.User.Password()
	user := u.User.Username()
	cred := user
	if pass != "" {
		cred += ":" + pass
	}
	host := u.Host
	if host == "" {
		host = "127.0.0.1:3306"
	}
	return fmt.Sprintf("%s@tcp(%s)/%s?parseTime=true", cred, host, strings.TrimPrefix(u.Path, "/")), nil
}

// redactErr keeps the password of a store URL out of an error message,
// even when the URL is too malformed to parse: the userinfo is cut out of
// the raw text by hand.
func redactErr(err error, raw string) error {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return err
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return err
	}
	_, pass, ok := strings.Cut(rest[:at], ":")
	if !ok || pass == "" {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), pass, "xxxxx")
	if dec, derr := url.PathUnescape(pass); derr == nil && dec != pass {
		msg = strings.ReplaceAll(msg, dec, "xxxxx")
	}
	return errors.New(msg)
}
