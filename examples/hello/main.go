// Command hello is the smallest seshat app: a visit counter and a name kept
// in a Flask-compatible signed cookie session, with CSRF-protected forms.
//
//	go run ./examples/hello            # http://127.0.0.1:8080
//	go run ./examples/hello -addr :9000
//
// The key comes from SESHAT_KEY (at least 32 bytes); without it a random key
// is made at start-up, so sessions end when the process does.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>seshat hello</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
input,button{font:inherit;padding:.3rem .6rem}</style>
<h1>Hello{{with .Name}}, {{.}}{{end}}</h1>
<p>You have been here {{.Visits}} time{{if ne .Visits 1}}s{{end}} in this session.</p>
<form method="post" action="/name"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><input name="name" placeholder="your name" value="{{.Name}}" maxlength="64"> <button>Save</button></form>
<form method="post" action="/forget"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button>Forget me</button></form>
`))

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	key := []byte(os.Getenv("SESHAT_KEY"))
	if len(key) == 0 {
		key = []byte(rand.Text() + rand.Text())
		log.Print("SESHAT_KEY not set: using a random key, sessions end with this process")
	}
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{key}, Lifetime: 7 * 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	// Flask-WTF-compatible CSRF tokens on every form, plus origin checks.
	cp, err := csrf.New([][]byte{key}, csrf.Options{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		visits := seshat.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", visits); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, err := csrf.Token(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.Execute(w, map[string]any{"Visits": visits, "Name": seshat.GetOr(s, "name", ""), "CSRF": tok})
	})
	mux.HandleFunc("POST /name", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.SetPermanent(true) // keep it for the Lifetime, across browser restarts
		if err := s.Set("name", r.FormValue("name")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Destroy()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})

	srv := &http.Server{Addr: *addr, Handler: sm.Handler(cp.Protect(mux)), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("seshat hello listening on http://%s\n", *addr)
	log.Fatal(srv.ListenAndServe())
}
