package main

import (
	"fmt"
	"net/http"

	"github.com/seshat-go/seshat"
)

// app is the web application under test: a login that renews the session
// and records its owner, a counter each /write increments, and /read.
// Every answer is "user counter" (or "anonymous"), so the load generator
// can check each one against what it knows.
func app(m *seshat.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u := r.URL.Query().Get("u")
		s.Renew()
		s.Clear()
		s.Set("user", u)
		s.Set("n", 0)
		s.SetUserID(u)
		fmt.Fprintf(w, "%s 0", u)
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		u := seshat.GetOr(s, "user", "")
		if u == "" {
			answer(w, s)
			return
		}
		n := seshat.GetOr(s, "n", 0) + 1
		s.Set("n", n)
		fmt.Fprintf(w, "%s %d", u, n)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		answer(w, seshat.FromContext(r.Context()))
	})
	return mux
}

func answer(w http.ResponseWriter, s *seshat.Session) {
	u := seshat.GetOr(s, "user", "")
	if u == "" {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprintf(w, "%s %d", u, seshat.GetOr(s, "n", 0))
}
