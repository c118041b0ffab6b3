package seshat_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/seshat-go/seshat"
)

// Regression tests named after the published flaws of the libraries seshat
// replaces (SECURITY-CHECKLIST.md, "Known flaws to never repeat"). The
// other flaws' tests live next to the code they guard and carry the flaw's
// name too; docs/SECURITY.md lists them all.

// notCookieDependent are the Session methods whose result does not depend
// on the request's cookie: the request's own bookkeeping and request-scoped
// locals. Every other exported method must make the response vary on
// Cookie. A new method fails TestCVE_2023_30861_VaryOnEveryTouch until it is
// classified here or proven to add Vary.
var notCookieDependent = map[string]string{
	"Accessed": "reports this request's own reads",
	"Changes":  "reports this request's own writes",
	"Cleared":  "reports this request's own Clear",
	"Modified": "reports this request's own writes",
	"Local":    "request-scoped value, never from the cookie",
	"SetLocal": "request-scoped value, never saved",
	"Fingerprint": "for log lines, deliberately leaves the response alone (fingerprint_test.go); " +
		"a handler that shows it in a response must read the session too",
}

// Flask CVE-2023-30861 and CVE-2026-27205, Django CVE-2014-0473: a shared
// cache served one user's session-dependent response to another because
// "Vary: Cookie" was missing for some ways of reading the session (a
// refresh-only permanent session, `in`, len, iteration). Every exported
// Session method, found by reflection so that a new one cannot be
// forgotten, is called alone in a handler on a request carrying a valid
// cookie, in both modes: each response varies on Cookie, and each response
// that sets the cookie is "Cache-Control: private".
func TestCVE_2023_30861_VaryOnEveryTouch(t *testing.T) {
	typ := reflect.TypeFor[*seshat.Session]()
	for _, mode := range []string{"cookie", "store"} {
		m := newManager(t, func(c *seshat.Config) {
			if mode == "store" {
				c.Store = newCountingStore()
			}
		})
		for i := range typ.NumMethod() {
			meth := typ.Method(i)
			if _, skip := notCookieDependent[meth.Name]; skip {
				continue
			}
			t.Run(mode+"/"+meth.Name, func(t *testing.T) {
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					s := reflect.ValueOf(seshat.FromContext(r.Context()))
					ft := meth.Type
					args := []reflect.Value{s}
					for j := 1; j < ft.NumIn(); j++ {
						args = append(args, sampleArg(ft.In(j)))
					}
					meth.Func.Call(args)
				})
				c := newClient(t, m, routes())
				c.get("/set") // a valid session, not permanent: a read re-issues nothing
				c2 := newClient(t, m, h)
				c2.cookie = c.cookie
				resp, _ := c2.get("/")
				if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
					t.Errorf("%s: no Vary: Cookie (%v)", meth.Name, resp.Header)
				}
				if resp.Header.Get("Set-Cookie") != "" && resp.Header.Get("Cache-Control") != "private" {
					t.Errorf("%s: Set-Cookie without Cache-Control: private", meth.Name)
				}
			})
		}
	}
	// The generic getters too.
	for name, read := range map[string]func(*seshat.Session){
		"Get[T]":   func(s *seshat.Session) { _, _ = seshat.Get[string](s, "user") },
		"GetOr":    func(s *seshat.Session) { _ = seshat.GetOr(s, "user", "") },
		"Has-miss": func(s *seshat.Session) { _ = s.Has("absent") },
	} {
		m := newManager(t, nil)
		c := newClient(t, m, routes())
		c.get("/set")
		c2 := newClient(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { read(seshat.FromContext(r.Context())) }))
		c2.cookie = c.cookie
		if resp, _ := c2.get("/"); resp.Header.Get("Vary") != "Cookie" {
			t.Errorf("%s: no Vary: Cookie", name)
		}
	}
}

// sampleArg gives a reflect value for a parameter of a Session method.
func sampleArg(t reflect.Type) reflect.Value {
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf("user").Convert(t)
	case reflect.Bool:
		return reflect.ValueOf(true)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return reflect.ValueOf([]byte("0123456789abcdef0123456789abcdef")).Convert(t)
		}
	case reflect.Interface:
		return reflect.ValueOf("value")
	}
	return reflect.Zero(t)
}

// GoFiber CVE-2024-38513: a session id chosen by the client was adopted
// when the store had no such session. Here a well-formed unsigned id, a
// forged signature and a validly signed id whose session was destroyed
// are each sent with a request that writes: the response carries a new
// id, and the store holds nothing under the client's value.
func TestCVE_2024_38513_NoClientChosenID(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	c := newClient(t, m, routes())
	c.get("/set")
	dead := c.cookie
	c.get("/logout")
	var raw [32]byte
	rand.Read(raw[:])
	chosen := base64.RawURLEncoding.EncodeToString(raw[:])
	for _, v := range []string{chosen, chosen + ".forgedsignature", dead} {
		store.take()
		c.cookie = v
		resp, _ := c.get("/set")
		sc := resp.Header.Get("Set-Cookie")
		if !strings.HasPrefix(sc, "session=") || strings.Contains(sc, v[:43]) {
			t.Fatalf("client value %.12s…: response cookie %q", v, sc)
		}
		if _, err := store.Load(context.Background(), seshat.StoreKey(v[:43])); err == nil {
			t.Fatalf("a record exists under the client's id %.12s…", v)
		}
	}
}

// Django CVE-2015-5143 and CVE-2015-3982: every request with an unknown or
// no session cookie created a store row, so anonymous traffic filled the
// store. 1000 requests that read the session, with random cookies, forged
// ones or none, leave the store empty, make no write and set no cookie.
func TestCVE_2015_5143_NoRowsForAnonymousTraffic(t *testing.T) {
	store := newCountingStore()
	m := storeManager(t, store, nil)
	mux := routes()
	mux.HandleFunc("/peek", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		fmt.Fprint(w, s.Len(), " ", s.Has("user"), " ", s.IsNew())
		s.Delete("nothing") // a delete of a missing key writes nothing
	})
	c := newClient(t, m, mux)
	for i := range 1000 {
		var raw [32]byte
		rand.Read(raw[:])
		switch i % 3 {
		case 0:
			c.cookie = ""
		case 1:
			c.cookie = base64.RawURLEncoding.EncodeToString(raw[:])
		case 2:
			c.cookie = base64.RawURLEncoding.EncodeToString(raw[:]) + ".AAAA"
		}
		resp, body := c.get("/peek")
		if resp.Header.Get("Set-Cookie") != "" || body != "0 false true" {
			t.Fatalf("request %d: %q, Set-Cookie %q", i, body, resp.Header.Get("Set-Cookie"))
		}
	}
	for _, call := range store.take() {
		if call != "Load" {
			t.Fatalf("anonymous traffic made a %s", call)
		}
	}
	if n := countRecords(t, store); n != 0 {
		t.Fatalf("%d records after anonymous traffic", n)
	}
}
