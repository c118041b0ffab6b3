package sessionlog_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/sessionlog"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// lines collects JSON log lines.
type lines struct{ testenv.Buffer }

func (l *lines) all(t *testing.T) (raw string, recs []map[string]any) {
	raw = l.String()
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	return raw, recs
}

// app logs one line per request; its manager logs through the same handler,
// so the test also proves the core's own log calls cannot deadlock on it.
func app(t *testing.T, out io.Writer, store seshat.Store) (*httptest.Server, *seshat.Manager) {
	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}), nil))
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Store: store, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u := r.URL.Query().Get("u")
		s.Set("_user_id", u)
		s.SetUserID(u)
		logger.InfoContext(r.Context(), "login", "path", r.URL.Path)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("touch") {
			seshat.FromContext(r.Context()).Has("x") // loads: a bad cookie is logged
		}
		logger.With("app", "test").WithGroup("req").InfoContext(r.Context(), "page", "path", r.URL.Path)
	})
	srv := httptest.NewServer(sm.Handler(mux))
	t.Cleanup(srv.Close)
	return srv, sm
}

// get sends a request with cookie and returns the new cookie (or the old).
func get(t *testing.T, srv *httptest.Server, path, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); sc != "" {
		return strings.SplitN(sc, ";", 2)[0]
	}
	return cookie
}

func TestStoreModeLogLines(t *testing.T) {
	var out lines
	srv, _ := app(t, &out, memstore.New(memstore.Options{}))
	a := get(t, srv, "/login?u=alice", "")
	b := get(t, srv, "/login?u=alice", "") // same user, another session
	get(t, srv, "/one", a)
	get(t, srv, "/two", a)
	get(t, srv, "/three", b)
	get(t, srv, "/anonymous", "")
	get(t, srv, "/forged?touch=1", "session=forged.value")

	raw, recs := out.all(t)
	fp := map[string]string{}
	for _, r := range recs {
		if r["msg"] != "page" {
			continue
		}
		// The logger opened group "req": the attribute stays on top.
		req := r["req"].(map[string]any)
		if _, ok := req["session"]; ok {
			t.Errorf("the fingerprint went into the group: %v", r)
		}
		s, _ := r["session"].(string)
		fp[req["path"].(string)] = s
	}
	if fp["/one"] == "" || len(fp["/one"]) != seshat.FingerprintLen {
		t.Fatalf("no fingerprint on a stored session's line: %q", raw)
	}
	if fp["/one"] != fp["/two"] {
		t.Errorf("one session, two fingerprints: %q, %q", fp["/one"], fp["/two"])
	}
	if fp["/three"] == fp["/one"] || fp["/three"] == "" {
		t.Errorf("two sessions of one user share fingerprint %q", fp["/three"])
	}
	if fp["/anonymous"] != "" || fp["/forged"] != "" {
		t.Errorf("a request without a session id got %q / %q", fp["/anonymous"], fp["/forged"])
	}
	for _, c := range []string{a, b} {
		v := strings.TrimPrefix(c, "session=")
		id, _, _ := strings.Cut(v, ".")
		if strings.Contains(raw, v) || strings.Contains(raw, id) {
			t.Fatalf("the cookie or the raw session id is in the log:\n%s", raw)
		}
	}
	if !strings.Contains(raw, `"level":"DEBUG"`) {
		t.Errorf("the manager's own debug line (forged cookie) is missing:\n%s", raw)
	}
}

func TestCookieModeLogLines(t *testing.T) {
	var out lines
	srv, _ := app(t, &out, nil)
	a := get(t, srv, "/login?u=alice", "")
	b := get(t, srv, "/login?u=alice", "")
	c := get(t, srv, "/login?u=bob", "")
	get(t, srv, "/a", a)
	get(t, srv, "/b", b)
	get(t, srv, "/c", c)
	raw, recs := out.all(t)
	fp := map[string]string{}
	for _, r := range recs {
		if r["msg"] == "page" {
			req := r["req"].(map[string]any)
			s, _ := r["session"].(string)
			fp[req["path"].(string)] = s
		}
	}
	if fp["/a"] == "" || fp["/a"] != fp["/b"] || fp["/c"] == fp["/a"] || fp["/c"] == "" {
		t.Fatalf("cookie mode names the user: alice %q %q, bob %q", fp["/a"], fp["/b"], fp["/c"])
	}
	for _, secret := range []string{strings.TrimPrefix(a, "session="), `"alice"`, "bob"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("%q is in the log:\n%s", secret, raw)
		}
	}
}

func TestOptionsAndAttr(t *testing.T) {
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{testKey}})
	var out lines
	own := []byte("a-fingerprint-key-of-my-own-0123")
	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(&out, nil), &sessionlog.Options{Key: own, AttrKey: "sfp"}))
	plain := slog.New(slog.NewJSONHandler(&out, nil))
	var want string
	h := sm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("_user_id", "7")
		want = s.Fingerprint(own)
		logger.InfoContext(r.Context(), "tagged")
		plain.InfoContext(r.Context(), "attr", sessionlog.Attr(r.Context()))
		plain.InfoContext(r.Context(), "untagged")
		logger.Info("no context")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	_, recs := out.all(t)
	if len(recs) != 4 || recs[0]["sfp"] != want || want == "" {
		t.Fatalf("explicit key and attribute name: %v, want sfp=%q", recs, want)
	}
	if recs[1]["session"] == "" || recs[1]["session"] == want || recs[1]["session"] == nil {
		t.Errorf("Attr uses the derived key under \"session\": %v", recs[1])
	}
	if _, ok := recs[2]["session"]; ok {
		t.Error("a plain logger got a fingerprint")
	}
	if _, ok := recs[3]["sfp"]; ok {
		t.Error("a line without a context got a fingerprint")
	}
	if a := sessionlog.Attr(t.Context()); !a.Equal(slog.Attr{}) {
		t.Errorf("Attr without a session: %v", a)
	}
}

// loggingStore logs every Merge with the context it is given, as a store
// with tracing might.
type loggingStore struct {
	*memstore.Store
	log *slog.Logger
}

func (l loggingStore) Merge(ctx context.Context, key string, ch *seshat.Change) error {
	l.log.InfoContext(ctx, "store merge")
	return l.Store.Merge(ctx, key, ch)
}

func (l loggingStore) Load(ctx context.Context, key string) (*seshat.Record, error) {
	l.log.InfoContext(ctx, "store load")
	return l.Store.Load(ctx, key)
}

// TestDetachedStoreLogsDoNotDeadlock: Detached.Save and Reload hold the
// session's lock while the store runs; a store logging with a context that
// carries that session must not wait on the lock (it would hang here).
func TestDetachedStoreLogsDoNotDeadlock(t *testing.T) {
	var out lines
	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(&out, nil), nil))
	store := loggingStore{memstore.New(memstore.Options{}), logger}
	srv, sm := app(t, &out, store)
	cookie := get(t, srv, "/login?u=alice", "")
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Cookie", cookie)
	d, err := sm.Detach(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := seshat.NewContext(t.Context(), d.Session)
	d.Set("n", 1)
	if err := d.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	logger.InfoContext(ctx, "socket line")
	_, recs := out.all(t)
	var tagged, merges int
	for _, r := range recs {
		switch r["msg"] {
		case "socket line":
			if s, _ := r["session"].(string); len(s) == seshat.FingerprintLen {
				tagged++
			}
		case "store merge":
			merges++
		}
	}
	if tagged != 1 || merges != 1 {
		t.Fatalf("socket lines tagged %d, store merges logged %d: %v", tagged, merges, recs)
	}
}

// TestManagerSaveStoreLogsDoNotDeadlock: Manager.Save holds the session's
// lock while the store merges; a store logging with the context the caller
// passed, which carries that session, must not wait on the lock.
func TestManagerSaveStoreLogsDoNotDeadlock(t *testing.T) {
	var out lines
	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(&out, nil), nil))
	store := loggingStore{memstore.New(memstore.Options{}), logger}
	srv, sm := app(t, &out, store)
	cookie := get(t, srv, "/login?u=alice", "")
	r := httptest.NewRequest("GET", "/job", nil)
	r.Header.Set("Cookie", cookie)
	s, err := sm.Load(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := seshat.NewContext(t.Context(), s)
	s.Set("n", 1)
	done := make(chan error, 1)
	go func() { done <- sm.Save(ctx, httptest.NewRecorder(), s) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Manager.Save still waiting after 30 s: the store's log line waited on the session's lock")
	}
	merges := 0
	_, recs := out.all(t)
	for _, r := range recs {
		if r["msg"] == "store merge" {
			merges++
		}
	}
	if merges != 1 {
		t.Fatalf("store merges logged %d, want 1: %v", merges, recs)
	}
}

// TestGroupedLoggerKeepsTheAttributeOnTop: attributes and groups keep their
// places, the fingerprint goes to the top level, and lines of different
// sessions logged at once through one grouped logger each get their own.
func TestGroupedLoggerKeepsTheAttributeOnTop(t *testing.T) {
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{testKey}})
	var out lines
	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(&out, nil), nil)).
		With("a", 1).WithGroup("g").With("b", 2).WithGroup("h")
	users := []string{"u1", "u2", "u3", "u4"}
	want := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			sm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := seshat.FromContext(r.Context())
				s.Set("_user_id", u)
				mu.Lock()
				want[u] = s.Fingerprint(nil)
				mu.Unlock()
				for range 20 {
					logger.InfoContext(r.Context(), "m", "user", u)
				}
			})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		})
	}
	wg.Wait()
	_, recs := out.all(t)
	if len(recs) != 20*len(users) {
		t.Fatalf("%d lines", len(recs))
	}
	for _, r := range recs {
		g, _ := r["g"].(map[string]any)
		h, _ := g["h"].(map[string]any)
		if r["a"] != 1.0 || g["b"] != 2.0 || h == nil {
			t.Fatalf("attributes and groups moved: %v", r)
		}
		u, _ := h["user"].(string)
		if r["session"] != want[u] || want[u] == "" {
			t.Fatalf("line of %s has fingerprint %v, want %q", u, r["session"], want[u])
		}
	}
}
