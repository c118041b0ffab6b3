package pgstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// tracer counts the statements a pool runs and remembers their text and
// arguments.
type tracer struct {
	mu       sync.Mutex
	queries  []string
	args     [][]any
	prepares int
}

func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.mu.Lock()
	tr.queries = append(tr.queries, d.SQL)
	tr.args = append(tr.args, d.Args)
	tr.mu.Unlock()
	return ctx
}
func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (tr *tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	tr.mu.Lock()
	tr.prepares++
	tr.mu.Unlock()
	return ctx
}
func (tr *tracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// take returns the statements seen since the last call, as short verbs
// ("SELECT", "UPDATE"...), and the prepares.
func (tr *tracer) take() (verbs []string, texts []string, args [][]any, prepares int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, q := range tr.queries {
		verbs = append(verbs, strings.Fields(q)[0])
	}
	texts, args, prepares = tr.queries, tr.args, tr.prepares
	tr.queries, tr.args, tr.prepares = nil, nil, 0
	return
}

// testApp is a small app over a seshat.Manager with store.
func testApp(t *testing.T, store seshat.Store) *httptest.Server {
	m, err := seshat.New(seshat.Config{
		Keys:   [][]byte{[]byte("pgstore-test-key-pgstore-test-key")},
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u := r.FormValue("u")
		s.Renew()
		s.SetUserID(u)
		s.SetPermanent(true)
		s.Set("user", u)
		s.Set("n", 0)
		s.Set("check", u+":0")
	})
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		n, _ := seshat.Get[int](s, "cart")
		s.Set("cart", n+1)
	})
	mux.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u, _ := seshat.Get[string](s, "user")
		n, _ := seshat.Get[int](s, "n")
		n++
		s.Set("n", n)
		s.Set("check", u+":"+strconv.Itoa(n))
		fmt.Fprintf(w, "%s:%d", u, n)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		u, _ := seshat.Get[string](seshat.FromContext(r.Context()), "user")
		io.WriteString(w, u)
	})
	mux.HandleFunc("/take", func(w http.ResponseWriter, r *http.Request) {
		v, _, _ := seshat.FromContext(r.Context()).Take("cart")
		fmt.Fprint(w, v)
	})
	mux.HandleFunc("/noop", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
	})
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

// get sends one request with the session cookie c and returns the status,
// the body and the new cookie value (c when none was set).
func get(client *http.Client, url, c string) (int, string, string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	if c != "" {
		req.Header.Set("Cookie", "session="+c)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", c, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, sc := range resp.Header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(strings.SplitN(sc, ";", 2)[0], "session="); ok {
			c = v
		}
	}
	return resp.StatusCode, string(b), c, nil
}

// TestStatementCount checks how many statements each kind of request costs
// through a real Manager, and that no statement text or argument carries
// the raw session id (ST-05).
func TestStatementCount(t *testing.T) {
	tr := &tracer{}
	pool := testPool(t, "seshat-pgstore-count", func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
	s := newTestStore(t, pool, Options{})
	srv := testApp(t, s)
	client := srv.Client()
	tr.take()

	type step struct {
		name, path string
		want       []string
	}
	steps := []step{
		{"anonymous write, new session (Save)", "/cart", []string{"INSERT"}},
		{"read (Load)", "/read", []string{"SELECT"}},
		{"write (Load + Merge)", "/cart", []string{"SELECT", "UPDATE"}},
		{"take (Load + Take)", "/take", []string{"SELECT", "UPDATE"}},
		{"take again (Load only: the session no longer holds the value)", "/take", []string{"SELECT"}},
		{"untouched (nothing)", "/noop", nil},
		{"login, renew (Load + Save + Delete)", "/login?u=alice", []string{"SELECT", "INSERT", "DELETE"}},
		{"permanent: read (Load + refresh Touch)", "/read", []string{"SELECT", "UPDATE"}},
		{"permanent: write (Load + Merge)", "/hit", []string{"SELECT", "UPDATE"}},
		{"permanent: untouched (Touch)", "/noop", []string{"UPDATE"}},
		{"login again, renew (Load + Save + Delete)", "/login?u=alice", []string{"SELECT", "INSERT", "DELETE"}},
		{"logout (Load + Delete)", "/logout", []string{"SELECT", "DELETE"}},
	}
	cookie := ""
	for _, st := range steps {
		code, _, c, err := get(client, srv.URL+st.path, cookie)
		if err != nil || code != 200 {
			t.Fatalf("%s: %d %v", st.name, code, err)
		}
		verbs, texts, args, prepares := tr.take()
		t.Logf("%-42s %d statement(s) %v, %d prepare(s)", st.name, len(verbs), verbs, prepares)
		if fmt.Sprint(verbs) != fmt.Sprint(st.want) {
			t.Errorf("%s: statements %v, want %v", st.name, verbs, st.want)
		}
		for _, id := range []string{strings.SplitN(cookie, ".", 2)[0], strings.SplitN(c, ".", 2)[0]} {
			if id == "" || id == "-" {
				continue
			}
			for i, q := range texts {
				if strings.Contains(q, id) || strings.Contains(fmt.Sprint(args[i]...), id) {
					t.Fatalf("%s: the raw session id reached the database: %s %v", st.name, q, args[i])
				}
			}
		}
		cookie = c
	}
}

// TestConnectionKill runs logged-in traffic through a Manager and kills
// every connection of the pool (pg_terminate_backend) several times in the
// middle (T-09). Requests caught by a kill must get 503, never 200 with an
// empty or foreign session and never 500; the pool must recover by itself;
// no session saved before may be lost, and no row may be half-written.
func TestConnectionKill(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	const app = "seshat-pgstore-fault"
	pool := testPool(t, app, func(c *pgxpool.Config) { c.MaxConns = 8 })
	admin := testPool(t, "seshat-pgstore-admin", nil)
	s := newTestStore(t, pool, Options{})
	srv := testApp(t, s)
	client := srv.Client()
	client.Timeout = 10 * time.Second

	const users = 16
	cookies := make([]string, users)
	for i := range users {
		code, _, c, err := get(client, srv.URL+fmt.Sprintf("/login?u=user%02d", i), "")
		if err != nil || code != 200 {
			t.Fatalf("login: %d %v", code, err)
		}
		cookies[i] = c
	}

	var (
		ok, unavailable, other atomic.Int64
		firstFail, lastFail    atomic.Int64
		killed                 atomic.Int64
		lastKill               atomic.Int64
		stop                   = make(chan struct{})
		wg                     sync.WaitGroup
		start                  = time.Now()
		maxLatency             atomic.Int64
	)
	last := make([]int, users) // the last n a 200 showed, per user
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("user%02d", i)
			for {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				code, body, c, err := get(client, srv.URL+"/hit", cookies[i])
				if d := int64(time.Since(t0)); d > maxLatency.Load() {
					maxLatency.Store(d)
				}
				switch {
				case err != nil:
					other.Add(1)
					t.Errorf("%s: %v", user, err)
					return
				case code == 200:
					ok.Add(1)
					u, ns, _ := strings.Cut(body, ":")
					n, _ := strconv.Atoi(ns)
					if u != user || n <= last[i] {
						t.Errorf("%s: 200 with %q after n=%d (wrong or fresh session)", user, body, last[i])
						return
					}
					last[i] = n
					if c != cookies[i] && strings.SplitN(c, ".", 2)[0] != strings.SplitN(cookies[i], ".", 2)[0] {
						t.Errorf("%s: the session id changed", user)
						return
					}
				case code == 503:
					unavailable.Add(1)
					now := int64(time.Since(start))
					firstFail.CompareAndSwap(0, now)
					lastFail.Store(now)
				default:
					other.Add(1)
					t.Errorf("%s: status %d: %s", user, code, body)
					return
				}
			}
		}()
	}
	// Three rounds of killing every connection of the store's pool.
	time.Sleep(700 * time.Millisecond)
	for range 3 {
		rows, err := admin.Query(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		killed.Add(int64(n))
		lastKill.Store(int64(time.Since(start)))
		time.Sleep(400 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d connections killed in 3 rounds; %d requests: %d × 200, %d × 503, %d other; 503s between %v and %v (last kill at %v); max latency %v",
		killed.Load(), ok.Load()+unavailable.Load()+other.Load(), ok.Load(), unavailable.Load(), other.Load(),
		time.Duration(firstFail.Load()).Round(time.Millisecond), time.Duration(lastFail.Load()).Round(time.Millisecond),
		time.Duration(lastKill.Load()).Round(time.Millisecond), time.Duration(maxLatency.Load()).Round(time.Millisecond))
	if killed.Load() == 0 {
		t.Fatal("no connection was killed: the test proved nothing")
	}
	if unavailable.Load() == 0 {
		t.Log("no request failed: every kill hit idle connections only")
	}
	// Recovery: the next request of every user succeeds at once.
	for i := range users {
		code, body, _, err := get(client, srv.URL+"/hit", cookies[i])
		if err != nil || code != 200 {
			t.Fatalf("user%02d after the kills: %d %s %v (pool did not recover)", i, code, body, err)
		}
	}
	// Nothing lost, nothing half-written: every row is whole and at least
	// as far as the last 200 its user saw.
	for i := range users {
		rec, err := s.Load(t.Context(), seshat.StoreKey(strings.SplitN(cookies[i], ".", 2)[0]))
		if err != nil {
			t.Fatalf("user%02d: session lost: %v", i, err)
		}
		n, _ := strconv.Atoi(string(rec.Values["n"]))
		want := fmt.Sprintf(`"user%02d:%d"`, i, n)
		if string(rec.Values["check"]) != want || string(rec.Values["user"]) != fmt.Sprintf(`"user%02d"`, i) || n < last[i]+1 {
			t.Fatalf("user%02d: row %q is inconsistent (last 200 saw n=%d)", i, rec.Values, last[i])
		}
	}
	st := pool.Stat()
	t.Logf("pool after: %d total, %d idle, %d acquired; %d connections opened in all",
		st.TotalConns(), st.IdleConns(), st.AcquiredConns(), st.NewConnsCount())
	if st.AcquiredConns() != 0 {
		t.Fatalf("%d connections still acquired (leak)", st.AcquiredConns())
	}
}

// TestParameterized (ST-05): keys, owners, value names and values that look
// like SQL are data, and no statement text ever carries one; pgx's tracer
// sees every statement, batches included.
func TestParameterized(t *testing.T) {
	tr := &tracer{}
	pool := testPool(t, "seshat-pgstore-param", func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
	s := newTestStore(t, pool, Options{})
	tr.take()
	storetest.InjectionShaped(t, s)
	_, texts, _, _ := tr.take()
	storetest.NoMarker(t, texts, 10)
}
