package memstore_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// Server-side sessions: the cookie carries only a signed id, the values stay
// in the store, and Destroy deletes them.
func Example() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte("a-long-random-key-from-your-secret-store")},
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew() // a new id after login: the pre-login one is dead
		s.SetUserID("42")
		s.Set("name", "alice")
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, seshat.GetOr(seshat.FromContext(r.Context()), "name", "anonymous"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
	})
	srv := httptest.NewServer(sm.Handler(mux))
	defer srv.Close()

	get := func(path, cookie string) (body, setCookie string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0]
	}
	_, cookie := get("/login", "")
	me, _ := get("/me", cookie)
	fmt.Println(me, strings.Contains(cookie, "alice"))
	infos, _ := store.ListByUser(context.Background(), "42")
	fmt.Println(len(infos), "session for user 42")
	get("/logout", cookie)
	me, _ = get("/me", cookie)
	fmt.Println(me)
	// Output:
	// alice false
	// 1 session for user 42
	// anonymous
}
