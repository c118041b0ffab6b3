// Command seshat-demo is seshat's tour in one small web application: sign
// up, log in (with "remember me"), log out, change the password (which
// renews this session and revokes the others), two-factor login, a list of
// your active sessions with revoke buttons, a theme kept in the session
// before login, flash messages, CSRF-protected forms, and a websocket page
// that reads and writes the same session.
//
//	go run ./cmd/seshat-demo                                  # SQLite in ./seshat-demo-data
//	go run ./cmd/seshat-demo -store redis://127.0.0.1:6379/0
//	go run ./cmd/seshat-demo -store postgres://postgres@127.0.0.1/test
//	go run ./cmd/seshat-demo -store mysql://root@127.0.0.1:3306/test
//	go run ./cmd/seshat-demo -store cookie                    # Flask's signed cookie, no server state
//
// Users are kept in the SQLite file <data>/demo.db whatever the session
// store. The signing key is -secret, or SESHAT_DEMO_SECRET, or a random key
// kept in <data>/secret-key; with -store cookie a Flask app using the same
// key as SECRET_KEY shares the session and the login (Flask-Login's keys).
// The TOTP secrets of two-factor login are stored encrypted under a key
// derived from it: keep the secret with the data, or enrolled users can no
// longer pass the second factor.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/sessionlog"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "seshat-demo:", err)
		os.Exit(1)
	}
}

// run parses args, starts the server and serves until ctx ends or the
// process gets SIGINT or SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seshat-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	dataDir := fs.String("data", "seshat-demo-data", "directory for demo.db (users, SQLite sessions) and the secret key")
	storeURL := fs.String("store", "", "session store: sqlite (default), cookie, redis://..., postgres://..., mysql://...")
	secret := fs.String("secret", "", "signing key, Flask's SECRET_KEY (default $SESHAT_DEMO_SECRET, else a random key kept in the data dir)")
	jsonLog := fs.Bool("json-log", false, "log as JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *jsonLog {
		h = slog.NewJSONHandler(stderr, nil)
	}
	// Every line logged with a request's context carries the fingerprint
	// of its session (a keyed hash, never the id): grep one to follow a
	// session through the log.
	logger := slog.New(sessionlog.NewHandler(h, nil))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	key, err := signingKey(*secret, *dataDir)
	if err != nil {
		return err
	}
	if len(key) < seshat.MinKeyLen {
		logger.Warn("the secret is shorter than 32 bytes: accepted for sharing with a Flask app, but use a longer one")
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	users, err := openUsers(openCtx, filepath.Join(*dataDir, "demo.db"))
	if err != nil {
		return err
	}
	defer users.Close()
	store, err := openSessionStore(openCtx, *storeURL, *dataDir)
	if err != nil {
		return err
	}
	defer store.close()
	a, err := newApp(config{Secret: key, Store: store, Users: users, Logger: logger})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	logger.Info("sessions", "store", store.Name, "where", store.Where)
	fmt.Fprintf(stdout, "seshat-demo listening on http://%s\n", displayAddr(ln.Addr()))

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// signingKey returns -secret, else $SESHAT_DEMO_SECRET, else the key kept in
// dir/secret-key, made on first use.
func signingKey(flagValue, dir string) ([]byte, error) {
	if flagValue != "" {
		return []byte(flagValue), nil
	}
	if env := os.Getenv("SESHAT_DEMO_SECRET"); env != "" {
		return []byte(env), nil
	}
	path := filepath.Join(dir, "secret-key")
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return []byte(k), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := rand.Text() + rand.Text() // 52 base32 characters, 260 random bits
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return nil, err
	}
	return []byte(k), nil
}

// displayAddr is the address to print: a wildcard listener (":8080") is
// reachable as localhost.
func displayAddr(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	return a.String()
}
