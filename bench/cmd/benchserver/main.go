// Command benchserver serves the same three routes with one session library
// (the contender) so that bench/run.sh can load them all with wrk and compare
// them with a server that keeps no session at all.
//
//	benchserver -contender seshat-cookie -addr 127.0.0.1:0
//
// Routes, with the same small session in every contender (user_id, a 40-hex
// csrf_token, theme, cart [1,2,3]):
//
//	/login  creates the session and answers with the header X-Bench-Login: 1
//	/read   reads the four values and writes them to the body
//	/write  changes one value (theme) and writes "ok"
//	/untouched  answers "ok" without touching the session (what a request
//	        that never looks at its session costs: store round trips only)
//
// Outside the contender, /_bench/stats answers with the counters run.sh
// reads before and after each wrk run: requests served on the routes above
// and round trips to the session engine, counted in the client (a go-redis
// hook: one per command or pipeline; a pgx tracer: one per statement or
// batch). They make "round trips per request" exact whatever else uses the
// same Redis or PostgreSQL.
//
// Besides the libraries, two references: "baseline" keeps no session, and
// "wire-floor" exchanges exactly seshat-cookie's bytes (cookie in,
// Set-Cookie, Vary and Cache-Control out) from constants, so that a report
// can tell what carrying a session over HTTP costs from what the library
// costs.
//
// Once listening it prints "listening ADDR" on standard output. A contender
// whose engine cannot be reached makes it exit with status 3 after printing
// "skip: REASON" on standard error. SIGINT or SIGTERM stops it; it then
// removes what it created (temporary files, its Redis keys, its table).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The session every contender holds.
const (
	userID    = "42"
	csrfToken = "3f786850e387550fdab836ed7e6dc881de23001b"
	themeDark = "dark"
	themeLite = "light"
)

var cart = []int{1, 2, 3}

// Fixed keys: the benchmark compares costs, not secrets.
var (
	signKey = []byte("bench-signing-key-bench-signing-key-0001")
	aesKey  = []byte("bench-aes-key-32-bytes-long-0001")
)

// exitSkip is the status for a contender whose engine is unreachable.
const exitSkip = 3

// errSkip marks an unreachable engine.
var errSkip = errors.New("skip")

// options are the command-line settings a contender may need.
type options struct {
	redisAddr string
	pgURL     string
	workDir   string // for SQLite and gorilla's FilesystemStore
	stats     *stats // engine round trips are counted here
	// tag makes this process's Redis key prefixes and PostgreSQL table its
	// own (the process id), so concurrent runs and tests do not meet.
	tag string
}

// contender builds the handler for one library; cleanup undoes what it
// created and is called once, after the server has stopped.
type contender func(ctx context.Context, o options) (h http.Handler, cleanup func(), err error)

var contenders = map[string]contender{
	"baseline":           newBaseline,
	"seshat-cookie":      newSeshatCookie,
	"seshat-memstore":    newSeshatMemstore,
	"seshat-redis":       newSeshatRedis,
	"seshat-postgres":    newSeshatPostgres,
	"seshat-sqlite":      newSeshatSQLite,
	"scs-memstore":       newScsMemstore,
	"scs-redis":          newScsRedis,
	"gorilla-cookie":     newGorillaCookie,
	"gorilla-cookie-aes": newGorillaCookieAES,
	"gorilla-filesystem": newGorillaFilesystem,
	"wire-floor":         newWireFloor,
}

func contenderNames() []string {
	names := make([]string, 0, len(contenders))
	for n := range contenders {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func main() {
	name := flag.String("contender", "baseline", "session library to serve: "+strings.Join(contenderNames(), ", "))
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback); port 0 picks a free one")
	var o options
	flag.StringVar(&o.redisAddr, "redis", "127.0.0.1:6379", "Redis address for seshat-redis and scs-redis")
	flag.StringVar(&o.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL for seshat-postgres")
	flag.StringVar(&o.workDir, "dir", "", "directory for SQLite and FilesystemStore files (default: a new temporary directory, removed at exit)")
	list := flag.Bool("list", false, "print the contender names and exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the serving time to this file (go tool pprof reads it)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchserver: ")
	if *list {
		fmt.Println(strings.Join(contenderNames(), "\n"))
		return
	}
	mk, ok := contenders[*name]
	if !ok {
		log.Fatalf("unknown contender %q (want one of %s)", *name, strings.Join(contenderNames(), ", "))
	}
	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
	}
	if err := run(*name, mk, *addr, o); err != nil {
		if errors.Is(err, errSkip) {
			fmt.Fprintln(os.Stderr, "skip:", strings.TrimPrefix(err.Error(), "skip: "))
			os.Exit(exitSkip)
		}
		log.Print(err)
		os.Exit(1)
	}
}

// startProfile starts CPU profiling into path; the returned function stops
// it and closes the file.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func run(name string, mk contender, addr string, o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.workDir == "" {
		dir, err := os.MkdirTemp("", "benchserver-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.workDir = dir
	}
	o.stats = new(stats)
	o.tag = strconv.Itoa(os.Getpid())
	setupCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	h, cleanup, err := mk(setupCtx, o)
	cancel()
	if errors.Is(err, errSkip) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer cleanup()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: o.stats.handler(h), ReadHeaderTimeout: 10 * time.Second}
	fmt.Println("listening", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return srv.Shutdown(sctx)
}

// routes registers the three routes; each contender supplies the session
// work and the response bodies are built the same way for all.
type routes struct {
	login func(w http.ResponseWriter, r *http.Request) error
	read  func(w http.ResponseWriter, r *http.Request) (values, error)
	write func(w http.ResponseWriter, r *http.Request) error
}

// values is what /read found in the session.
type values struct {
	userID, csrf, theme string
	cart                []int
}

func (rt routes) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Bench-Login", "1")
		if err := rt.login(w, r); err != nil {
			fail(w, err)
			return
		}
		w.Write([]byte("logged in\n"))
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		v, err := rt.read(w, r)
		if err != nil {
			fail(w, err)
			return
		}
		if v.userID == "" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		b := make([]byte, 0, 128)
		b = append(b, "user_id="...)
		b = append(b, v.userID...)
		b = append(b, " csrf_token="...)
		b = append(b, v.csrf...)
		b = append(b, " theme="...)
		b = append(b, v.theme...)
		b = append(b, " cart="...)
		for i, n := range v.cart {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, '\n')
		w.Write(b)
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		if err := rt.write(w, r); err != nil {
			fail(w, err)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/untouched", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	return mux
}

// errNoSession answers 401: the client sent no valid session.
var errNoSession = errors.New("no session")

func fail(w http.ResponseWriter, err error) {
	if errors.Is(err, errNoSession) {
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	log.Print(err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// otherTheme is the value /write stores: the theme flips on every write.
func otherTheme(t string) string {
	if t == themeDark {
		return themeLite
	}
	return themeDark
}

func nop() {}

// newBaseline keeps no session: the same routes and bodies from constants.
func newBaseline(context.Context, options) (http.Handler, func(), error) {
	rt := routes{
		login: func(w http.ResponseWriter, r *http.Request) error {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "baseline", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			return nil
		},
		read: func(w http.ResponseWriter, r *http.Request) (values, error) {
			return values{userID: userID, csrf: csrfToken, theme: themeDark, cart: cart}, nil
		},
		write: func(w http.ResponseWriter, r *http.Request) error { return nil },
	}
	return rt.mux(), nop, nil
}
