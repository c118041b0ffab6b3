package main

import (
	"database/sql"
	"os"

	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat/filestore"
	"github.com/seshat-go/seshat/mysqlstore"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/sqlitestore"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/storetest"
)

// sessionsStores returns store URLs to test against: the embedded ones
// always, the engines when they are reachable.
func sessionsStores(t *testing.T) map[string]string {
	dir := t.TempDir()
	urls := map[string]string{
		"sqlite": "sqlite:" + filepath.Join(dir, "s.db"),
		"file":   "file:" + filepath.Join(dir, "files"),
	}
	t.Run("probe-redis", func(t *testing.T) {
		testenv.Dial(t, "redis", "127.0.0.1:6379")
		urls["redis"] = "redis://127.0.0.1:6379/0"
	})
	t.Run("probe-postgres", func(t *testing.T) {
		testenv.Dial(t, "postgres", "127.0.0.1:5432")
		urls["postgres"] = "postgres://postgres@127.0.0.1:5432/test?application_name=seshat-cli-test"
	})
	t.Run("probe-mariadb", func(t *testing.T) {
		testenv.Dial(t, "mariadb", "127.0.0.1:3306")
		urls["mysql"] = "mysql://root@127.0.0.1:3306/test"
	})
	return urls
}

// sessionsCLI runs the CLI with no stdin.
func sessionsCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	r := runCLI(t, "", env, args...)
	return r.code, r.stdout, r.stderr
}

func TestSessionsListRevoke(t *testing.T) {
	for name, url := range sessionsStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := &cli{env: func(string) string { return "" }}
			if err := prepareStore(ctx, name, url); err != nil {
				t.Fatal(err)
			}
			store, closeStore, err := openStore(ctx, c, url)
			if err != nil {
				t.Fatal(err)
			}
			var b [8]byte
			rand.Read(b[:])
			user, other := "cli-user-"+hex.EncodeToString(b[:]), "cli-other-"+hex.EncodeToString(b[:])
			var mine []string
			for i := range 3 {
				k := storetest.Key()
				mine = append(mine, k)
				if err := store.Save(ctx, k, &seshat.Record{Values: map[string][]byte{"n": []byte(fmt.Sprint(i))}, Expires: time.Now().Add(time.Hour), UserID: user}); err != nil {
					t.Fatal(err)
				}
			}
			otherKey := storetest.Key()
			store.Save(ctx, otherKey, &seshat.Record{Values: map[string][]byte{"n": []byte("9")}, Expires: time.Now().Add(time.Hour), UserID: other})
			closeStore()
			t.Cleanup(func() {
				s, cl, err := openStore(ctx, c, url)
				if err == nil {
					s.(seshat.UserIndex).RevokeUser(ctx, other)
					cl()
				}
			})

			code, out, errOut := sessionsCLI(t, nil, "sessions", "list", "--store", url, "--user", user)
			if code != 0 || strings.Count(out, user) != 3 {
				t.Fatalf("list --user: %d %q %q", code, out, errOut)
			}
			for _, k := range mine {
				if !strings.Contains(out, k) {
					t.Fatalf("list misses %s:\n%s", k, out)
				}
			}
			if name == "sqlite" || name == "file" {
				// Full walk through SESHAT_STORE: exactly the four sessions.
				code, out, _ = sessionsCLI(t, map[string]string{"SESHAT_STORE": url}, "sessions", "list")
				if code != 0 || strings.Count(out, "\n") != 5 {
					t.Fatalf("list: %d\n%s", code, out)
				}
			}
			if code, out, _ := sessionsCLI(t, nil, "sessions", "revoke", "--store", url, "--id", mine[0]); code != 0 || strings.TrimSpace(out) != "1" {
				t.Fatalf("revoke --id: %d %q", code, out)
			}
			if code, out, _ := sessionsCLI(t, nil, "sessions", "revoke", "--store", url, "--user", user); code != 0 || strings.TrimSpace(out) != "2" {
				t.Fatalf("revoke --user: %d %q", code, out)
			}
			if code, out, _ := sessionsCLI(t, nil, "sessions", "list", "--store", url, "--user", user); code != 0 || strings.Contains(out, user) {
				t.Fatalf("after revoke: %d %q", code, out)
			}
			if code, out, _ := sessionsCLI(t, nil, "sessions", "list", "--store", url, "--user", other); code != 0 || !strings.Contains(out, otherKey) {
				t.Fatalf("another user's session was revoked: %q", out)
			}
		})
	}
}

func TestSessionsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"sessions"},
		{"sessions", "nope"},
		{"sessions", "list"},
		{"sessions", "list", "--store", "gopher://x"},
		{"sessions", "revoke", "--store", "sqlite:/tmp/x.db"},
		{"sessions", "revoke", "--store", "sqlite:/tmp/x.db", "--id", "a", "--user", "b"},
	} {
		if code, _, errOut := sessionsCLI(t, nil, args...); code != exitUsage || !strings.HasPrefix(errOut, "seshat sessions") {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	if code, out, _ := sessionsCLI(t, nil, "sessions", "help"); code != 0 || !strings.Contains(out, "sqlite:PATH") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestStoreURLPasswordRedacted(t *testing.T) {
	_, _, errOut := sessionsCLI(t, nil, "sessions", "list", "--store", "redis://u:hunter2@[::1:bad/0")
	if strings.Contains(errOut, "hunter2") {
		t.Fatalf("password in error: %q", errOut)
	}
}

// prepareStore creates what the CLI refuses to create itself (it never makes
// tables, files or directories on a mistyped URL): the store an app would
// have made.
func prepareStore(ctx context.Context, kind, url string) error {
	switch kind {
	case "sqlite":
		s, err := sqlitestore.Open(ctx, strings.TrimPrefix(url, "sqlite:"), sqlitestore.Options{})
		if err != nil {
			return err
		}
		return s.Close()
	case "file":
		s, err := filestore.New(strings.TrimPrefix(url, "file:"), filestore.Options{CleanupInterval: -1})
		if err != nil {
			return err
		}
		return s.Close()
	case "postgres":
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		s, err := pgstore.New(ctx, pool, pgstore.Options{})
		if err != nil {
			return err
		}
		return s.Close()
	case "mysql":
		dsn, err := mysqlDSN(url)
		if err != nil {
			return err
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		s, err := mysqlstore.New(ctx, db, mysqlstore.Options{CleanupInterval: -1})
		if err != nil {
			return err
		}
		return s.Close()
	}
	return nil
}

func TestSessionsRefusesMissingPaths(t *testing.T) {
	dir := t.TempDir()
	for _, url := range []string{"sqlite:" + dir + "/nope.db", "file:" + dir + "/nope"} {
		if code, _, errOut := sessionsCLI(t, nil, "sessions", "list", "--store", url); code != exitUsage || !strings.Contains(errOut, "no such file") {
			t.Errorf("%s: %d %q", url, code, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the CLI created %v", entries)
	}
}
