package flasksessionredis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flasksession"
	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/internal/testenv"
)

// liveSecret is the Flask app's SECRET_KEY; seshat also signs its own
// cookie-mode tokens with it (unused here: the store carries the session).
const liveSecret = "flask-session-live-test-secret-0123456789"

// requirePython skips (or fails, per testenv) unless python() can import Flask-Session and the given extra modules.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	py := python()
	imports := strings.Join(append([]string{"flask", "flask_session", "cachelib"}, modules...), ", ")
	v := pyproc.Require(t, "python3 with "+imports+" ("+py+")", py, "import "+imports+"; print(flask_session.__version__)")
	if v != "0.3.2" {
		testenv.Unavailable(t, "Flask-Session 0.3.2", fmt.Errorf("%s has Flask-Session %s", py, v))
	}
}

// python is the interpreter with Debian's Flask-Session 0.3.2.
func python() string { return pyproc.Interpreter("SESHAT_FLASK22_PYTHON", "/usr/bin/python3") }

// flaskApp is testdata/flaskapp.py running in its own process.
type flaskApp struct {
	URL string
	PID int
}

// startFlask runs the app with env (FSAPP_* settings) and stops it by PID
// when t ends.
func startFlask(t *testing.T, env map[string]string) *flaskApp {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "flaskapp.py")
	var extra []string
	for k, v := range env {
		extra = append(extra, k+"="+v)
	}
	p, u := pyproc.Serve(t, "flask app", pyproc.Command(python(), script, extra...))
	a := &flaskApp{URL: u, PID: p.PID()}
	t.Logf("flask app pid %d on %s: %s", a.PID, u, bytes.TrimSpace(call(t, "GET", a.URL+"/versions", "", "").body))
	return a
}

// goApp is a seshat app with the same routes as the Flask app.
func goApp(t *testing.T, store seshat.Store, ids seshat.IDScheme) string {
	t.Helper()
	m, err := seshat.New(seshat.Config{
		Keys:     [][]byte{[]byte(liveSecret)},
		Store:    store,
		IDScheme: ids,
		Lifetime: time.Hour,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	writeValues := func(w http.ResponseWriter, s *seshat.Session) {
		vals := s.Values()
		if err := s.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		mk, err := flaskvectors.ToMarkers(vals)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(mk)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := flaskvectors.DecodeMarkers(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s := seshat.FromContext(r.Context())
		for k, x := range v.(map[string]any) {
			if err := s.Set(k, x); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		writeValues(w, s)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		writeValues(w, seshat.FromContext(r.Context()))
	})
	mux.HandleFunc("GET /del", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Delete(r.FormValue("k"))
		writeValues(w, s)
	})
	mux.HandleFunc("GET /clear", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Clear()
	})
	mux.HandleFunc("GET /destroy", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew()
		s.SetUserID(r.FormValue("u"))
		writeValues(w, s)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, seshat.FromContext(r.Context()).UserID())
	})
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

// resp is one HTTP exchange.
type resp struct {
	status int
	body   []byte
	cookie string // the session cookie set, "" if none, "-" for a deletion
}

func call(t *testing.T, method, url, cookie string, body string) resp {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, body: b}
	for _, c := range res.Cookies() {
		if c.Name == "session" {
			r.cookie = c.Value
			if c.Value == "" || c.MaxAge < 0 {
				r.cookie = "-"
			}
		}
	}
	return r
}

// values decodes a /get or /set answer and returns the model value and the
// keys in order.
func values(t *testing.T, who string, r resp) (map[string]any, []string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("%s: status %d: %s", who, r.status, r.body)
	}
	v, err := flaskvectors.DecodeMarkers(r.body)
	if err != nil {
		t.Fatalf("%s: %v: %s", who, err, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return v.(map[string]any), keys
}

func mustMarkers(t *testing.T, s string) map[string]any {
	t.Helper()
	v, err := flaskvectors.DecodeMarkers([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func merged(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func wantValues(t *testing.T, who string, got, want map[string]any) {
	t.Helper()
	if d := flaskvectors.Diff(got, want); d != "" {
		t.Fatalf("%s sees %s\nwant %s\n(%s)", who, flaskvectors.MarkersString(got), flaskvectors.MarkersString(want), d)
	}
}

// backend lets the scenario look at the raw records.
type backend struct {
	// raw returns the stored bytes of a session (the pickle), or false.
	raw      func(sid string) ([]byte, bool)
	protocol int
}

// Values that cross in each direction: every tag of the model except the
// ones pickled as objects (datetime, UUID, Markup).
const (
	flaskPayload = `{"user": "bob", "n": 3, "big": 1180591620717411303424, "neg": -300, "f": 2.5, "ok": true, "none": null,
		"items": ["a", "b"], "nested": {"k": [1, {"z": false}]}, "tup": {"$tuple": [1, "x"]},
		"raw": {"$bytes_hex": "00ff"}, "name": "caf\u00e9 \u2615 \ud83d\ude00 \u65e5\u672c", "inf": {"$float": "inf"}}`
	goPayload = `{"go_tuple": {"$tuple": [2, "y", {"$tuple": [3]}]}, "go_bytes": {"$bytes_hex": "0001ff"},
		"go_nested": {"a": [{"b": [null, 1.5]}], "t": {"$tuple": []}}, "go_str": "\u00fcn\u00ef \ud83d\udca1", "go_big": -1180591620717411303424}`
)

// interop runs the shared scenario between a Flask app and a seshat app on
// one store.
func interop(t *testing.T, flask *flaskApp, goURL string, ids *flasksession.IDScheme, be backend) {
	fp := mustMarkers(t, flaskPayload)
	gp := mustMarkers(t, goPayload)
	perm := map[string]any{"_permanent": true}

	// Flask writes, seshat reads with the same cookie.
	r := call(t, "POST", flask.URL+"/set", "", flaskPayload)
	c := r.cookie
	if c == "" || c == "-" {
		t.Fatalf("flask set no cookie")
	}
	sid, _, err := ids.Decode(c)
	if err != nil {
		t.Fatalf("the Flask cookie %q does not decode: %v", c, err)
	}
	if raw, ok := be.raw(sid); !ok || raw[0] != 0x80 || int(raw[1]) != be.protocol {
		t.Fatalf("raw record: %v %x", ok, raw[:min(len(raw), 2)])
	}
	got, _ := values(t, "seshat", call(t, "GET", goURL+"/get", c, ""))
	wantValues(t, "seshat", got, merged(perm, fp))
	_, flaskOrder := values(t, "flask", call(t, "GET", flask.URL+"/get", c, ""))

	// seshat writes (a merge), Flask reads; the cookie stays the same.
	r = call(t, "POST", goURL+"/set", c, goPayload)
	if r.status != 200 || (r.cookie != "" && r.cookie != c) {
		t.Fatalf("seshat /set: status %d, cookie %q (had %q)", r.status, r.cookie, c)
	}
	got, order := values(t, "flask", call(t, "GET", flask.URL+"/get", c, ""))
	wantValues(t, "flask", got, merged(perm, fp, gp))
	// Flask's keys keep their order; seshat's new keys follow, sorted.
	newKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range gp {
			if !yield(k) {
				return
			}
		}
	})
	if want := append(slices.Clone(flaskOrder), newKeys...); !slices.Equal(order, want) {
		t.Fatalf("key order after a seshat merge:\n%v\nwant\n%v", order, want)
	}

	// Deletes in either direction.
	values(t, "seshat", call(t, "GET", goURL+"/del?k=user", c, ""))
	got, _ = values(t, "flask", call(t, "GET", flask.URL+"/get", c, ""))
	if _, ok := got["user"]; ok {
		t.Fatal("flask still sees a key seshat deleted")
	}
	values(t, "flask", call(t, "GET", flask.URL+"/del?k=go_str", c, ""))
	got, _ = values(t, "seshat", call(t, "GET", goURL+"/get", c, ""))
	if _, ok := got["go_str"]; ok {
		t.Fatal("seshat still sees a key Flask deleted")
	}
	// Flask overwrites a value seshat reads.
	call(t, "POST", flask.URL+"/set", c, `{"n": 4, "tup": {"$tuple": ["z"]}}`)
	got, _ = values(t, "seshat", call(t, "GET", goURL+"/get", c, ""))
	if got["n"] != int64(4) || flaskvectors.Diff(got["tup"], mustMarkers(t, `{"t": {"$tuple": ["z"]}}`)["t"]) != "" {
		t.Fatalf("seshat sees n=%v tup=%v", got["n"], got["tup"])
	}

	// The owner seshat records travels inside the dict, through Flask.
	r = call(t, "GET", goURL+"/login?u=alice", c, "")
	c2 := r.cookie
	if c2 == "" || c2 == c {
		t.Fatalf("login did not renew the id: %q", c2)
	}
	if _, ok := be.raw(sid); ok {
		t.Fatal("the record under the old id survived the renewal")
	}
	call(t, "POST", flask.URL+"/set", c2, `{"after_login": 1}`) // Flask rewrites the whole record
	if who := call(t, "GET", goURL+"/whoami", c2, ""); string(who.body) != "alice" {
		t.Fatalf("owner after a Flask rewrite: %q", who.body)
	}
	c = c2
	sid, _, _ = ids.Decode(c)

	// Flask clears: the record is gone for seshat too.
	call(t, "GET", flask.URL+"/clear", c, "")
	if _, ok := be.raw(sid); ok {
		t.Fatal("record survives Flask's clear")
	}
	got, _ = values(t, "seshat", call(t, "GET", goURL+"/get", c, ""))
	if len(got) != 0 {
		t.Fatalf("seshat sees %v after Flask cleared the session", got)
	}

	// A session seshat creates is Flask's too.
	r = call(t, "POST", goURL+"/set", "", goPayload)
	g := r.cookie
	gsid, _, err := ids.Decode(g)
	if err != nil || !flasksession.ValidID(gsid) {
		t.Fatalf("seshat's cookie %q: %v", g, err)
	}
	got, _ = values(t, "flask", call(t, "GET", flask.URL+"/get", g, ""))
	wantValues(t, "flask", got, gp)
	// seshat destroys it: the record goes, and Flask finds nothing of it.
	if r := call(t, "GET", goURL+"/destroy", g, ""); r.cookie != "-" {
		t.Fatalf("destroy: cookie %q", r.cookie)
	}
	if _, ok := be.raw(gsid); ok {
		t.Fatal("record survives seshat's Destroy")
	}
	got, _ = values(t, "flask", call(t, "GET", flask.URL+"/get", g, ""))
	wantValues(t, "flask", got, perm) // a fresh Flask session (Flask re-creates it)

	// seshat never adopts an id without a record: Flask-Session's fixation
	// does not carry over.
	planted := ids.Encode(ids.New(), false)
	r = call(t, "POST", goURL+"/set", planted, `{"x": 1}`)
	if r.cookie == "" || r.cookie == planted {
		t.Fatalf("seshat adopted a planted id (%q -> %q)", planted, r.cookie)
	}
	if ids.Signed() {
		// A forged signature is refused outright.
		r = call(t, "POST", goURL+"/set", gsid+".forged", `{"x": 1}`)
		if r.cookie == "" || strings.HasPrefix(r.cookie, gsid) {
			t.Fatalf("forged cookie accepted: %q", r.cookie)
		}
	}

	// A datetime written by Flask cannot be read: seshat fails closed.
	r = call(t, "GET", flask.URL+"/set_datetime", "", "")
	if r := call(t, "GET", goURL+"/get", r.cookie, ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("a session holding a datetime: status %d: %s", r.status, r.body)
	}
}

// TestLiveRedis runs the scenario with Flask-Session on Redis, signed and
// unsigned; the Flask app uses redis-py when installed (and a minimal RESP
// client otherwise; the last subtest always uses that one).
func TestLiveRedis(t *testing.T) {
	c := client(t)
	requirePython(t)
	for _, tc := range []struct {
		signed bool
		mini   string
	}{{false, "0"}, {true, "0"}, {true, "1"}} {
		t.Run(fmt.Sprintf("use_signer=%v,mini_client=%s", tc.signed, tc.mini), func(t *testing.T) {
			signed := tc.signed
			p := prefix(t, c)
			use := "0"
			opts := flasksession.IDOptions{Unsigned: true}
			if signed {
				use = "1"
				opts = flasksession.IDOptions{Keys: [][]byte{[]byte(liveSecret)}}
			}
			flask := startFlask(t, map[string]string{
				"FSAPP_TYPE": "redis", "FSAPP_REDIS": redisAddr(), "FSAPP_PREFIX": p,
				"FSAPP_USE_SIGNER": use, "FSAPP_SECRET_KEY": liveSecret, "FSAPP_LIFETIME": "3600",
				"FSAPP_MINI_REDIS": tc.mini,
			})
			ids, err := flasksession.NewIDScheme(opts)
			if err != nil {
				t.Fatal(err)
			}
			goURL := goApp(t, New(c, Options{Prefix: p}), ids)
			be := backend{protocol: 4, raw: func(sid string) ([]byte, bool) {
				b, err := c.Get(context.Background(), p+sid).Bytes()
				return b, err == nil
			}}
			interop(t, flask, goURL, ids, be)

			// Both sides set whole-second TTLs of PERMANENT_SESSION_LIFETIME.
			r := call(t, "POST", goURL+"/set", "", `{"_permanent": true}`)
			sid, _, _ := ids.Decode(r.cookie)
			if ttl := c.TTL(context.Background(), p+sid).Val(); ttl < 3590*time.Second || ttl > 3600*time.Second {
				t.Fatalf("seshat's TTL %v", ttl)
			}
			call(t, "GET", flask.URL+"/get", r.cookie, "")
			if ttl := c.TTL(context.Background(), p+sid).Val(); ttl < 3590*time.Second || ttl > 3600*time.Second {
				t.Fatalf("Flask's TTL %v", ttl)
			}
		})
	}
}

func TestLiveFilesystem(t *testing.T) {
	requirePython(t)
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprintf("use_signer=%v", signed), func(t *testing.T) {
			dir := t.TempDir()
			use := "0"
			opts := flasksession.IDOptions{Unsigned: true}
			if signed {
				use = "1"
				opts = flasksession.IDOptions{Keys: [][]byte{[]byte(liveSecret)}}
			}
			flask := startFlask(t, map[string]string{
				"FSAPP_TYPE": "filesystem", "FSAPP_FILE_DIR": dir,
				"FSAPP_USE_SIGNER": use, "FSAPP_SECRET_KEY": liveSecret, "FSAPP_LIFETIME": "3600",
			})
			ids, err := flasksession.NewIDScheme(opts)
			if err != nil {
				t.Fatal(err)
			}
			store, err := flasksession.NewFileStore(dir, flasksession.FileStoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			goURL := goApp(t, store, ids)
			be := backend{protocol: 5, raw: func(sid string) ([]byte, bool) {
				b, err := os.ReadFile(filepath.Join(dir, flasksession.FileName("session:"+sid)))
				if err != nil {
					return nil, false
				}
				return b[4:], true
			}}
			interop(t, flask, goURL, ids, be)

			// The count file both sides maintain matches the directory.
			checkCount(t, dir)
			files, _ := os.ReadDir(dir)
			for _, f := range files {
				if st, _ := f.Info(); st.Mode().Perm() != 0o600 {
					t.Fatalf("%s has mode %v", f.Name(), st.Mode())
				}
			}
		})
	}
}

// checkCount compares cachelib's count file with the session files.
func checkCount(t *testing.T, dir string) {
	t.Helper()
	countName := flasksession.FileName("__wz_cache_count")
	b, err := os.ReadFile(filepath.Join(dir, countName))
	if err != nil {
		t.Fatal(err)
	}
	v, err := flasksession.DecodePickle(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	n := 0
	for _, f := range files {
		if f.Name() != countName && !strings.HasSuffix(f.Name(), ".__wz_cache") {
			n++
		}
	}
	if v != int64(n) {
		t.Fatalf("count file says %v, directory has %d sessions", v, n)
	}
}

// TestLiveFilesystemThreshold: with SESSION_FILE_THRESHOLD=3 on both
// sides, Flask and seshat take turns creating sessions; each prunes by the
// count the other maintains, and the count always matches the directory.
func TestLiveFilesystemThreshold(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	flask := startFlask(t, map[string]string{
		"FSAPP_TYPE": "filesystem", "FSAPP_FILE_DIR": dir, "FSAPP_THRESHOLD": "3",
		"FSAPP_USE_SIGNER": "1", "FSAPP_SECRET_KEY": liveSecret, "FSAPP_LIFETIME": "3600",
	})
	ids, _ := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{[]byte(liveSecret)}})
	store, err := flasksession.NewFileStore(dir, flasksession.FileStoreOptions{Threshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	goURL := goApp(t, store, ids)
	sessions := func() int {
		files, _ := os.ReadDir(dir)
		return len(files) - 1 // the count file
	}
	for i := range 8 {
		url := goURL
		if i%2 == 1 {
			url = flask.URL
		}
		r := call(t, "POST", url+"/set", "", fmt.Sprintf(`{"i": %d}`, i))
		if r.status != 200 || r.cookie == "" {
			t.Fatalf("create %d: %d", i, r.status)
		}
		checkCount(t, dir)
		if n := sessions(); n > 4 {
			t.Fatalf("%d sessions with threshold 3 (cachelib keeps at most threshold+1)", n)
		}
	}
	if n := sessions(); n != 4 {
		t.Fatalf("%d sessions at the end, want 4", n)
	}
}
