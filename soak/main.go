// Command soak serves a seshat application with the Redis store and then
// the PostgreSQL store, drives mixed /read /write /login traffic at it from
// its own clients, and restarts the database engine during the run. It
// starts its own redis-server and its own PostgreSQL cluster on loopback
// ports in a temporary directory (never the shared services on 6379 and
// 5432) and stops them by PID.
//
// Odd-numbered restarts are clean shutdowns, even-numbered ones crashes
// (Redis SIGKILL, PostgreSQL immediate shutdown).
//
// It reports requests served, 5xx answers (allowed only while the engine is
// down, plus a grace period), sessions lost, lost updates (each client
// checks a per-session counter against the writes it saw acknowledged),
// and goroutines and heap at start and end. It exits 1 when any figure that
// must be zero is not.
//
//	go run ./soak                      # 5 minutes per store, 2 restarts each
//	go run ./soak -duration 20s        # smoke run
//	go run ./soak -stores redis
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	o := options{Log: os.Stderr}
	stores := flag.String("stores", "redis,postgres", "stores to soak, in order")
	flag.DurationVar(&o.Duration, "duration", 5*time.Minute, "traffic time per store")
	flag.DurationVar(&o.Outage, "outage", 2*time.Second, "how long the engine stays down at each restart")
	flag.DurationVar(&o.Grace, "grace", 2*time.Second, "after the engine is back, 5xx still count as outage for this long")
	flag.IntVar(&o.Restarts, "restarts", 2, "engine restarts per store")
	flag.IntVar(&o.RedisRetries, "redis-retries", -1, "go-redis MaxRetries (-1: none, the strictest test)")
	flag.IntVar(&o.Clients, "clients", 16, "concurrent clients (one cookie each)")
	flag.IntVar(&o.Rate, "rate", 500, "requests per second, all clients together")
	flag.IntVar(&o.Port, "port", 0, "first engine port (redis; postgres gets the next); 0 picks free loopback ports")
	flag.StringVar(&o.RedisBin, "redis-server", "redis-server", "redis-server binary")
	flag.StringVar(&o.PGBin, "pg-bin", "/usr/lib/postgresql/15/bin", "directory holding initdb and postgres")
	keep := flag.Bool("keep", false, "keep the work directory (engine logs; its path goes to stderr)")
	flag.Parse()
	// go-redis logs every failed redial while the engine is down.
	redis.SetLogger(quietRedis{})
	dir, err := os.MkdirTemp("", "seshat-soak-")
	if err != nil {
		fatal(err)
	}
	// The postgres user must reach its data directory inside.
	if err := os.Chmod(dir, 0o711); err != nil {
		fatal(err)
	}
	o.WorkDir = dir
	if *keep {
		fmt.Fprintln(os.Stderr, "soak: work directory", dir)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	all, err := run(ctx, o, strings.Split(*stores, ","))
	if len(all) > 0 {
		report(os.Stdout, o, all)
	}
	if err != nil {
		fatal(err)
	}
	for _, f := range all {
		if len(f.Violations) > 0 {
			if !*keep {
				os.RemoveAll(dir)
			}
			os.Exit(1)
		}
	}
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "soak:", err)
	os.Exit(2)
}

// report prints the figures as a Markdown table, one column per store.
func report(w io.Writer, o options, all []*figures) {
	fmt.Fprintf(w, "soak: %d clients, %d req/s cap, %d restarts per store, %s down each, %s grace\n\n",
		o.Clients, o.Rate, o.Restarts, o.Outage, o.Grace)
	row := func(name string, val func(f *figures) string) {
		fmt.Fprintf(w, "| %s |", name)
		for _, f := range all {
			fmt.Fprintf(w, " %s |", val(f))
		}
		fmt.Fprintln(w)
	}
	row("store", func(f *figures) string { return f.Store })
	fmt.Fprint(w, "|---|")
	for range all {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	rows := []struct {
		name string
		val  func(f *figures) any
	}{
		{"traffic time", func(f *figures) any { return f.Duration }},
		{"requests answered", func(f *figures) any { return f.tally.Requests }},
		{"requests/s", func(f *figures) any { return fmt.Sprintf("%.0f", f.RequestsPerSecond) }},
		{"200 (reads / writes / logins)", func(f *figures) any {
			return fmt.Sprintf("%d (%d / %d / %d)", f.tally.OK, f.tally.Reads, f.tally.Writes, f.tally.Logins)
		}},
		{"engine outages, stop → answering again (clean, crash)", func(f *figures) any { return outagesText(f.Outages) }},
		{"5xx during outage windows", func(f *figures) any { return f.tally.FiveXXInOutage }},
		{"5xx outside outage windows (must be 0)", func(f *figures) any { return f.tally.FiveXXOutside }},
		{"requests without an answer (must be 0)", func(f *figures) any { return f.tally.TransportErrors }},
		{"sessions lost (must be 0)", func(f *figures) any { return f.tally.SessionsLost }},
		{"sessions lost after a failed login", func(f *figures) any { return f.tally.LostAfterFailure }},
		{"another user's session (must be 0)", func(f *figures) any { return f.tally.WrongUser }},
		{"lost updates (must be 0)", func(f *figures) any { return f.tally.LostUpdates }},
		{"counter values never written (must be 0)", func(f *figures) any { return f.tally.Phantoms }},
		{"5xx writes found applied", func(f *figures) any { return f.tally.Ambiguous }},
		{"ids replaced by a login, still alive at the end (must be 0)", func(f *figures) any {
			return fmt.Sprintf("%d of %d", f.tally.OldIDsAlive, f.tally.Renewed)
		}},
		{"logins that kept the id (must be 0)", func(f *figures) any { return f.tally.NotRenewed }},
		{"sessions stored at the end (clients; logins answered 5xx)", func(f *figures) any {
			return fmt.Sprintf("%d (%d; %d)", f.Live, o.Clients, f.tally.LoginsFailed)
		}},
		{"goroutines: before store / start / end / after close", func(f *figures) any {
			return fmt.Sprintf("%d / %d / %d / %d", f.GoroutinesBaseline, f.GoroutinesStart, f.GoroutinesEnd, f.GoroutinesAfterClose)
		}},
		{"heap after GC: start / ¼ / ½ / ¾ / end (MiB)", func(f *figures) any {
			var s []string
			for _, h := range append(append([]uint64{f.HeapStart}, f.HeapSamples...), f.HeapEnd) {
				s = append(s, fmt.Sprintf("%.1f", float64(h)/(1<<20)))
			}
			return strings.Join(s, " / ")
		}},
		{"verdict", func(f *figures) any {
			if len(f.Violations) == 0 {
				return "pass"
			}
			return "FAIL: " + strings.Join(f.Violations, "; ")
		}},
	}
	for _, r := range rows {
		row(r.name, func(f *figures) string { return fmt.Sprint(r.val(f)) })
	}
}

func outagesText(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(10*time.Millisecond).String())
	}
	return strings.Join(s, ", ")
}
