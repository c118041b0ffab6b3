package main

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/redisstore"
)

// options configure one soak run.
type options struct {
	Duration time.Duration // traffic time per store
	Outage   time.Duration // how long the engine stays down at each restart
	Grace    time.Duration // after the engine is back, 5xx still count as outage
	Restarts int
	Clients  int
	Rate     int // requests per second, all clients together
	WorkDir  string
	RedisBin string
	PGBin    string // directory with initdb and postgres
	Port     int    // first of the engine ports (redis Port, postgres Port+1)
	// RedisRetries is go-redis's MaxRetries (-1: none).
	RedisRetries int
	Log          io.Writer
}

// figures are a run's results for one store.
type figures struct {
	Store                string
	Duration             time.Duration
	tally                tally
	Outages              []time.Duration
	GoroutinesStart      int // server and store up, before traffic
	GoroutinesEnd        int // traffic stopped, client connections closed
	GoroutinesAfterClose int // store, pool and server closed
	GoroutinesBaseline   int // engine up, before the store existed
	HeapStart, HeapEnd   uint64
	HeapSamples          []uint64 // after GC, at each quarter of the run
	Live                 int      // sessions still stored at the end (store Iterate)
	RequestsPerSecond    float64
	Violations           []string
}

// heap returns the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// settle waits up to 5 s for the goroutine count to drop to at most want
// (connections closing, pools winding down) and returns the last count.
func settle(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > want; i++ {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// storeUnder is a seshat.Store on a running engine, with what closes it.
type storeUnder struct {
	store seshat.Store
	close func()
}

func openRedis(o options, e *redisEngine) (storeUnder, error) {
	// go-redis retries a failed command on a fresh connection (MaxRetries;
	// redisstore's scripts are idempotent, so a retry cannot apply a
	// change twice). The soak's default, -1, turns that off: a stale
	// pooled connection after a restart would then show as a 5xx.
	rdb := redis.NewClient(&redis.Options{Addr: e.Addr(), MaxRetries: o.RedisRetries, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	st := redisstore.New(rdb, redisstore.Options{})
	return storeUnder{st, func() { st.Close(); rdb.Close() }}, nil
}

func openPG(ctx context.Context, e *pgEngine) (storeUnder, error) {
	cfg, err := pgxpool.ParseConfig(e.DSN())
	if err != nil {
		return storeUnder{}, err
	}
	cfg.MaxConns = 8
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return storeUnder{}, err
	}
	st, err := pgstore.New(ctx, pool, pgstore.Options{})
	if err != nil {
		pool.Close()
		return storeUnder{}, err
	}
	return storeUnder{st, func() { st.Close(); pool.Close() }}, nil
}

// soak runs the traffic against one engine and store.
func soak(ctx context.Context, o options, e engine, open func() (storeUnder, error)) (*figures, error) {
	f := &figures{Store: e.Name(), Duration: o.Duration}
	if err := e.Start(ctx); err != nil {
		return nil, err
	}
	defer func() { e.Stop(false) }()
	// Measured with the engine's process waiter running, which is ours.
	f.GoroutinesBaseline = runtime.NumGoroutine()
	su, err := open()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	crand.Read(key)
	m, err := seshat.New(seshat.Config{Keys: [][]byte{key}, Store: su.store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		su.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		su.close()
		return nil, err
	}
	srv := &http.Server{Handler: m.Handler(app(m)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()

	f.GoroutinesStart, f.HeapStart = runtime.NumGoroutine(), heap()
	out := &outages{grace: o.Grace, log: o.Log}
	tr := &http.Transport{MaxIdleConnsPerHost: o.Clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	clients := make([]*client, o.Clients)
	for i := range clients {
		clients[i] = &client{id: i, base: base, hc: hc, out: out, rng: rand.New(rand.NewPCG(uint64(i), 7))}
	}

	started := time.Now()
	tctx, stop := context.WithTimeout(ctx, o.Duration)
	defer stop()
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.run(tctx, tick.C) }()
	}
	// Restarts at evenly spaced points of the run.
	var restartErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= o.Restarts; i++ {
			at := started.Add(time.Duration(i) * o.Duration / time.Duration(o.Restarts+1))
			select {
			case <-tctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			fmt.Fprintf(o.Log, "%s: restart %d (crash %v) at %s\n", e.Name(), i, i%2 == 0, time.Now().Format(time.TimeOnly))
			if r, ok := e.(*redisEngine); ok {
				r.reportLatency(ctx, o.Log)
			}
			began := time.Now()
			out.begin()
			// Odd restarts are clean shutdowns, even ones crashes.
			if err := e.Stop(i%2 == 0); err != nil {
				restartErr = err
			}
			time.Sleep(o.Outage)
			if err := e.Start(ctx); err != nil && restartErr == nil {
				restartErr = err
			}
			out.end()
			f.Outages = append(f.Outages, time.Since(began))
		}
	}()
	// The live heap at each quarter of the run: it should level off,
	// not grow with the number of requests served.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for q := 1; q <= 3; q++ {
			select {
			case <-tctx.Done():
				return
			case <-time.After(time.Until(started.Add(time.Duration(q) * o.Duration / 4))):
			}
			f.HeapSamples = append(f.HeapSamples, heap())
		}
	}()
	wg.Wait()
	elapsed := time.Since(started)
	if restartErr != nil {
		return nil, fmt.Errorf("restart: %w", restartErr)
	}
	// The final check: every client reads its session once more.
	for _, c := range clients {
		c.verify()
		f.tally.add(&c.t)
	}
	f.RequestsPerSecond = float64(f.tally.Requests) / elapsed.Seconds()
	if r, ok := e.(*redisEngine); ok {
		r.reportLatency(ctx, o.Log)
	}
	if it, ok := su.store.(seshat.Iterator); ok {
		it.Iterate(ctx, func(seshat.SessionInfo) error { f.Live++; return nil })
	}
	tr.CloseIdleConnections()
	f.GoroutinesEnd = settle(f.GoroutinesStart)
	f.HeapEnd = heap()
	srv.Shutdown(ctx)
	su.close()
	f.GoroutinesAfterClose = settle(f.GoroutinesBaseline)
	if f.GoroutinesAfterClose > f.GoroutinesBaseline {
		pprof.Lookup("goroutine").WriteTo(o.Log, 1)
	}
	f.check()
	return f, nil
}

// check lists what must be zero and is not.
func (f *figures) check() {
	t := f.tally
	for _, c := range []struct {
		n    int64
		what string
	}{
		{t.FiveXXOutside, "5xx outside an outage window"},
		{t.TransportErrors, "requests without an HTTP answer"},
		{t.SessionsLost, "sessions lost"},
		{t.WrongUser, "answers with another user's session"},
		{t.LostUpdates, "lost updates"},
		{t.Phantoms, "counter values no client wrote"},
		{t.Other, "unexpected answers"},
		{t.NotRenewed, "logins that kept the session id"},
		{t.OldIDsAlive, "replaced session ids still alive"},
	} {
		if c.n != 0 {
			f.Violations = append(f.Violations, fmt.Sprintf("%s: %d", c.what, c.n))
		}
	}
	if f.GoroutinesAfterClose > f.GoroutinesBaseline {
		f.Violations = append(f.Violations, fmt.Sprintf("goroutines after close %d > baseline %d", f.GoroutinesAfterClose, f.GoroutinesBaseline))
	}
	if len(f.Outages) == 0 {
		f.Violations = append(f.Violations, "no restart happened")
	}
}

// run soaks each named store in turn, each on its own engine under
// o.WorkDir.
func run(ctx context.Context, o options, stores []string) ([]*figures, error) {
	var all []*figures
	for i, name := range stores {
		dir := filepath.Join(o.WorkDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return all, err
		}
		var (
			f   *figures
			err error
		)
		port := o.Port + i
		if o.Port == 0 {
			if port, err = freePort(); err != nil {
				return all, err
			}
		}
		switch name {
		case "redis":
			e := &redisEngine{bin: o.RedisBin, dir: dir, port: port}
			f, err = soak(ctx, o, e, func() (storeUnder, error) { return openRedis(o, e) })
		case "postgres":
			e := &pgEngine{binDir: o.PGBin, dir: filepath.Join(dir, "data"), port: port}
			if err = e.Init(); err == nil {
				f, err = soak(ctx, o, e, func() (storeUnder, error) { return openPG(ctx, e) })
			}
		default:
			err = fmt.Errorf("unknown store %q (redis, postgres)", name)
		}
		if err != nil {
			return all, fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, f)
	}
	return all, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
