package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/seshat-go/seshat"
)

// app is a small HTTP app over a real seshat.Manager with the store.
type app struct {
	t   *testing.T
	srv *httptest.Server
	m   *seshat.Manager
}

func newApp(t *testing.T, s seshat.Store) *app {
	m, err := seshat.New(seshat.Config{
		Keys:   [][]byte{[]byte("storetest-key-storetest-key-0123")},
		Store:  s,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		if err := seshat.FromContext(r.Context()).Set(r.FormValue("k"), r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, seshat.FromContext(r.Context()).Len())
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := seshat.Get[string](seshat.FromContext(r.Context()), r.FormValue("k"))
		io.WriteString(w, v)
	})
	mux.HandleFunc("/take", func(w http.ResponseWriter, r *http.Request) {
		v, _, err := seshat.FromContext(r.Context()).Take(r.FormValue("k"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s, _ := v.(string)
		io.WriteString(w, s)
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
	return &app{t: t, srv: srv, m: m}
}

// do sends one request with cookie (a value or "") and returns the body and
// the session cookie the response set ("" if none; "-" for a deletion).
func (a *app) do(path, cookie string) (status int, body, setCookie string) {
	req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Error(err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, sc := range resp.Header.Values("Set-Cookie") {
		v, ok := strings.CutPrefix(strings.SplitN(sc, ";", 2)[0], "session=")
		if !ok {
			continue
		}
		if v == "" {
			v = "-"
		}
		setCookie = v
	}
	return resp.StatusCode, string(b), setCookie
}

// keyOf is the store key of a cookie made by seshat's default IDScheme.
func keyOf(cookie string) string {
	return seshat.StoreKey(strings.SplitN(cookie, ".", 2)[0])
}

func testManagerLostUpdates(t *testing.T, s seshat.Store) {
	if _, ok := s.(seshat.Merger); !ok {
		t.Skip("store is not a seshat.Merger: concurrent writers overwrite each other (last writer wins)")
	}
	a := newApp(t, s)
	_, _, c := a.do("/set?k=base&v=0", "")
	if c == "" {
		t.Fatal("no session cookie")
	}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if st, body, _ := a.do(fmt.Sprintf("/set?k=g%02d-%02d&v=%d", g, i, i), c); st != 200 {
					t.Errorf("status %d: %s", st, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	_, body, _ := a.do("/count", c)
	if n, _ := strconv.Atoi(body); n != 1001 {
		t.Fatalf("%s keys after 50×20 concurrent requests each setting its own key, want 1001", body)
	}
}

func testManagerRenewDestroy(t *testing.T, s seshat.Store) {
	a := newApp(t, s)
	_, _, c0 := a.do("/set?k=cart&v=3", "")
	_, _, c1 := a.do("/login?u=alice", c0)
	if c1 == "" || c1 == "-" || keyOf(c1) == keyOf(c0) {
		t.Fatalf("login did not renew the session id")
	}
	if _, err := s.Load(t.Context(), keyOf(c0)); err == nil {
		t.Fatal("the pre-login record survived Renew (session fixation, LC-01)")
	}
	if _, body, _ := a.do("/get?k=cart", c1); body != "3" {
		t.Fatalf("values lost on renew: %q", body)
	}
	if _, body, _ := a.do("/get?k=user", c0); body != "" {
		t.Fatal("the old cookie still reaches the session")
	}
	if ui, ok := s.(seshat.UserIndex); ok {
		infos, err := ui.ListByUser(t.Context(), "alice")
		if err != nil || len(infos) != 1 || infos[0].Key != keyOf(c1) {
			t.Fatalf("owner not indexed after login: %v %v", infos, err)
		}
	}
	_, _, del := a.do("/logout", c1)
	if del != "-" {
		t.Fatalf("logout did not delete the cookie: %q", del)
	}
	if _, err := s.Load(t.Context(), keyOf(c1)); err == nil {
		t.Fatal("record survived Destroy (LC-04)")
	}
	if _, body, _ := a.do("/get?k=user", c1); body != "" {
		t.Fatal("a replayed cookie reached the destroyed session")
	}
}

func testManagerReadOnly(t *testing.T, s seshat.Store) {
	it, ok := s.(seshat.Iterator)
	if !ok {
		t.Skip("store is not a seshat.Iterator: cannot count records")
	}
	a := newApp(t, s)
	for i := range 100 {
		var b [32]byte
		rand.Read(b[:])
		forged := base64.RawURLEncoding.EncodeToString(b[:]) + ".sig"
		if i%2 == 0 {
			forged = ""
		}
		if st, _, sc := a.do("/count", forged); st != 200 || sc != "" {
			t.Fatalf("read-only request: status %d, Set-Cookie %q", st, sc)
		}
	}
	n := 0
	it.Iterate(t.Context(), func(seshat.SessionInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d records after read-only traffic, want 0 (LC-09)", n)
	}
}

func testManagerStrictIDs(t *testing.T, s seshat.Store) {
	a := newApp(t, s)
	_, _, c := a.do("/set?k=a&v=1", "")
	a.do("/logout", c)
	// Replaying a once-valid cookie and writing must mint a new id, never
	// recreate the old one (SID-02).
	_, _, c2 := a.do("/set?k=b&v=2", c)
	if c2 == "" || keyOf(c2) == keyOf(c) {
		t.Fatal("a dead session id was adopted")
	}
	if _, err := s.Load(t.Context(), keyOf(c)); err == nil {
		t.Fatal("a record exists again under the destroyed id")
	}
}
