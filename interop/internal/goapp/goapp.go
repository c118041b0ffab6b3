// Package goapp is the Go twin of interop/flaskapp/app.py: the same routes,
// served through seshat's Manager, so the interop tests send the same
// requests to Flask and to seshat and compare the answers.
//
// Routes:
//
//	POST /set[?permanent=1|0]  body: a JSON object in Flask's tagged-JSON form;
//	                           every member is Set, then SetPermanent when given
//	GET  /permanent?value=1|0  SetPermanent(value)
//	GET  /dump                 taggedjson.Marshal(session.Values())
//	GET  /noop                 does not touch the session
//	GET  /touch?key=K          Get(K) (default key "user")
//	GET  /touch_vary?key=K     Get(K), and the handler sets Vary: Accept-Encoding
//	GET  /contains?key=K       "yes"/"no" from Has(K)
//	GET  /clear                Clear()
//	GET  /pop_missing          Delete("__missing__")
//
// Like the Flask app, it honours a test-only frozen clock: a request with
// the header "X-Test-Now: UNIX" (seconds, may have a fraction) is served by a
// Manager whose Config.Now returns that time.
package goapp

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

// NowHeader carries the frozen clock of one request, in Unix seconds.
const NowHeader = "X-Test-Now"

// Handler returns the twin app for cfg. It validates cfg once, with
// seshat.New, and reports the error. For each request it builds a Manager
// from cfg, with Config.Now frozen at the request's X-Test-Now when present,
// so concurrent requests with different clocks do not interfere.
func Handler(cfg seshat.Config) (http.Handler, error) {
	if _, err := seshat.New(cfg); err != nil {
		return nil, err
	}
	routes := mux()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cfg
		if v := r.Header.Get(NowHeader); v != "" {
			now, err := ParseNow(v)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			c.Now = func() time.Time { return now }
		}
		m, err := seshat.New(c)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		m.Handler(routes).ServeHTTP(w, r)
	}), nil
}

// ParseNow parses Unix seconds with an optional fraction ("1710000000.5").
func ParseNow(v string) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("goapp: bad %s %q", NowHeader, v)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))), nil
}

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func truthy(v string) bool { return v != "0" && v != "false" && v != "" }

func mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			text(w, http.StatusBadRequest, err.Error())
			return
		}
		values, err := taggedjson.UnmarshalObject(body)
		if err != nil {
			text(w, http.StatusBadRequest, "bad tagged JSON: "+err.Error())
			return
		}
		// Sorted, so a failure is reported for the same key every time.
		for _, k := range slices.Sorted(maps.Keys(values)) {
			if err := s.Set(k, values[k]); err != nil {
				text(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		if p, ok := r.URL.Query()["permanent"]; ok {
			s.SetPermanent(truthy(p[0]))
		}
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /permanent", func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query().Get("value")
		if _, ok := r.URL.Query()["value"]; !ok {
			v = "1"
		}
		seshat.FromContext(r.Context()).SetPermanent(truthy(v))
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /dump", func(w http.ResponseWriter, r *http.Request) {
		out, err := taggedjson.Marshal(seshat.FromContext(r.Context()).Values())
		if err != nil {
			text(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	m.HandleFunc("GET /noop", func(w http.ResponseWriter, r *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /touch", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Get(key(r))
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /touch_vary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		seshat.FromContext(r.Context()).Get(key(r))
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /contains", func(w http.ResponseWriter, r *http.Request) {
		if seshat.FromContext(r.Context()).Has(key(r)) {
			text(w, http.StatusOK, "yes")
		} else {
			text(w, http.StatusOK, "no")
		}
	})
	m.HandleFunc("GET /clear", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Clear()
		text(w, http.StatusOK, "ok")
	})
	m.HandleFunc("GET /pop_missing", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Delete("__missing__")
		text(w, http.StatusOK, "ok")
	})
	return m
}

func key(r *http.Request) string {
	if k := r.URL.Query().Get("key"); k != "" {
		return k
	}
	return "user"
}
