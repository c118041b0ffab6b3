package main

import (
	"context"
	"net/http"
	"time"

	"github.com/seshat-go/seshat"
)

// newWireFloor is a second baseline: it exchanges exactly the bytes that
// seshat-cookie does — the same session cookie in every request, the same
// Set-Cookie, Vary and Cache-Control headers in the responses — but does no
// session work at all. The cookies are made once at start-up by seshat's own
// codec (for the theme "dark" and "light"); each route compares the cookie it
// received with them and answers from constants.
//
// What separates seshat-cookie from this contender is what the library
// costs; what separates this contender from the baseline is what carrying a
// session over HTTP costs any library (a longer request, more response
// headers for the server to write and for wrk to parse). A ratio target that
// this contender itself misses cannot be met by a library that sends the
// same headers.
func newWireFloor(context.Context, options) (http.Handler, func(), error) {
	m, err := seshat.New(seshat.Config{Keys: [][]byte{signKey}})
	if err != nil {
		return nil, nil, err
	}
	enc := func(theme string) (string, error) {
		return m.Codec().Encode(map[string]any{
			"user_id": userID, "csrf_token": csrfToken, "theme": theme, "cart": []any{int64(1), int64(2), int64(3)},
		}, time.Now())
	}
	dark, err := enc(themeDark)
	if err != nil {
		return nil, nil, err
	}
	light, err := enc(themeLite)
	if err != nil {
		return nil, nil, err
	}
	name := m.CookieName()
	// The header values seshat sends, each in its own one-element slice
	// assigned straight into the header map (the cheapest way to send them).
	setDark := []string{name + "=" + dark + "; HttpOnly; Path=/"}
	setLight := []string{name + "=" + light + "; HttpOnly; Path=/"}
	vary := []string{"Cookie"}
	private := []string{"private"}
	// wrk sends the cookie as the whole Cookie header ("name=value"), so
	// the floor compares header lines with constants: no parse, no
	// allocation. Anything else is read with r.Cookie, as a browser's
	// header would be.
	darkLine, lightLine := name+"="+dark, name+"="+light
	theme := func(r *http.Request) string {
		if lines := r.Header["Cookie"]; len(lines) == 1 {
			switch lines[0] {
			case darkLine:
				return themeDark
			case lightLine:
				return themeLite
			}
		}
		c, err := r.Cookie(name)
		switch {
		case err != nil:
			return ""
		case c.Value == dark:
			return themeDark
		case c.Value == light:
			return themeLite
		}
		return ""
	}
	rt := routes{
		login: func(w http.ResponseWriter, r *http.Request) error {
			h := w.Header()
			h["Set-Cookie"], h["Vary"], h["Cache-Control"] = setDark, vary, private
			return nil
		},
		read: func(w http.ResponseWriter, r *http.Request) (values, error) {
			w.Header()["Vary"] = vary
			t := theme(r)
			if t == "" {
				return values{}, nil
			}
			return values{userID: userID, csrf: csrfToken, theme: t, cart: cart}, nil
		},
		write: func(w http.ResponseWriter, r *http.Request) error {
			h := w.Header()
			h["Vary"] = vary
			switch theme(r) {
			case themeDark:
				h["Set-Cookie"], h["Cache-Control"] = setLight, private
			case themeLite:
				h["Set-Cookie"], h["Cache-Control"] = setDark, private
			default:
				return errNoSession
			}
			return nil
		},
	}
	return rt.mux(), nop, nil
}
