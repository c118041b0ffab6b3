package redisstore

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
)

// testKeys are the manager's signing keys in the HTTP tests.
var testKeys = [][]byte{[]byte("redisstore-test-key-0123456789ab")}

// testApp serves a small app over a seshat.Manager with the store s.
func testApp(t *testing.T, s seshat.Store) *httptest.Server {
	t.Helper()
	m, err := seshat.New(seshat.Config{Keys: testKeys, Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		v, _ := seshat.Get[string](seshat.FromContext(r.Context()), "v")
		io.WriteString(w, v)
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("v", r.FormValue("v"))
	})
	mux.HandleFunc("/take", func(w http.ResponseWriter, r *http.Request) {
		v, _, _ := seshat.FromContext(r.Context()).Take("v")
		s, _ := v.(string)
		io.WriteString(w, s)
	})
	mux.HandleFunc("/permanent", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.SetPermanent(true)
		s.Set("v", r.FormValue("v"))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew()
		s.SetUserID(r.FormValue("u"))
		s.Set("user", r.FormValue("u"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
	})
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

// get sends one request with the session cookie (or none) and returns the
// status, the body and the session cookie the response set ("" if none).
func get(t *testing.T, srv *httptest.Server, path, cookie string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set := ""
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			set = c.Value
		}
	}
	return resp.StatusCode, string(b), set
}

// TestRoundTrips counts the commands a real seshat.Manager sends through
// the store, with INFO commandstats deltas on a redis-server of its own.
func TestRoundTrips(t *testing.T) {
	srv := startServer(t, "--save", "", "--appendonly", "no")
	admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer admin.Close()
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), PoolSize: 4})
	defer c.Close()
	hook := &countingHook{}
	c.AddHook(hook)
	app := testApp(t, New(c, Options{}))

	count := func(what, path, cookie string) (n int, set string) {
		t.Helper()
		before, sent := commandStats(t, admin), hook.n.Load()
		st, _, set := get(t, app, path, cookie)
		if st != 200 {
			t.Fatalf("%s: status %d", what, st)
		}
		n, detail := topCommands(before, commandStats(t, admin))
		if h := int(hook.n.Load() - sent); h != n {
			t.Errorf("%s: the server counts %d commands, the client sent %d", what, n, h)
		}
		t.Logf("%-46s %d round trip(s): %s", what+":", n, detail)
		return n, set
	}
	expect := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d commands, want %d", what, got, want)
		}
	}

	n, cookie := count("new session, first write (cold script cache)", "/write?v=a", "")
	if n < 1 || n > 2 {
		t.Errorf("cold first write: %d commands", n)
	}
	n, _ = count("new session, first write", "/write?v=a", "")
	expect("new session, first write", n, 1)
	n, _ = count("untouched request with a session", "/none", cookie)
	expect("untouched", n, 0)
	n, _ = count("untouched request without a cookie", "/none", "")
	expect("untouched, no cookie", n, 0)
	n, _ = count("read", "/read", cookie)
	expect("read", n, 1)
	count("write (cold merge script)", "/write?v=b", cookie)
	n, _ = count("write", "/write?v=c", cookie)
	if n > 2 {
		t.Errorf("write: %d commands, want ≤ 2", n)
	}
	if _, body, _ := get(t, app, "/read", cookie); body != "c" {
		t.Fatalf("read back %q", body)
	}

	count("take (cold take script)", "/take", cookie)
	count("write", "/write?v=d", cookie)
	n, _ = count("take (read + take)", "/take", cookie)
	expect("take", n, 2)
	if _, body, _ := get(t, app, "/take", cookie); body != "" {
		t.Fatalf("second take got %q", body)
	}

	_, perm := count("make permanent (write)", "/permanent?v=p", cookie)
	count("untouched permanent (cold touch script)", "/none", perm)
	n, _ = count("untouched permanent session (sliding expiry)", "/none", perm)
	expect("untouched permanent", n, 1)
	n, _ = count("read of a permanent session", "/read", perm)
	expect("permanent read", n, 2)

	_, anon := count("new anonymous session for login", "/write?v=x", "")
	count("login (renew + owner; cold delete script)", "/login?u=alice", anon)
	_, anon = count("new anonymous session for login", "/write?v=x", "")
	_, user := count("login (renew of an anonymous session)", "/login?u=bob", anon)
	_, user = count("login again (renew of an owned session)", "/login?u=bob", user)
	count("logout (destroy of an owned session)", "/logout", user)
}
