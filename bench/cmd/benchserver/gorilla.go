package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gorilla/sessions"
)

const gorillaName = "session"

// gorillaHandler serves the routes with gorilla/sessions and store; a
// handler saves the session itself after changing it.
func gorillaHandler(store sessions.Store) http.Handler {
	rt := routes{
		login: func(w http.ResponseWriter, r *http.Request) error {
			s, _ := store.Get(r, gorillaName) // an invalid cookie gives a new session
			s.Values["user_id"] = userID
			s.Values["csrf_token"] = csrfToken
			s.Values["theme"] = themeDark
			s.Values["cart"] = cart
			return s.Save(r, w)
		},
		read: func(w http.ResponseWriter, r *http.Request) (values, error) {
			s, err := store.Get(r, gorillaName)
			if err != nil {
				return values{}, errNoSession
			}
			var v values
			v.userID, _ = s.Values["user_id"].(string)
			v.csrf, _ = s.Values["csrf_token"].(string)
			v.theme, _ = s.Values["theme"].(string)
			v.cart, _ = s.Values["cart"].([]int)
			return v, nil
		},
		write: func(w http.ResponseWriter, r *http.Request) error {
			s, err := store.Get(r, gorillaName)
			if err != nil {
				return errNoSession
			}
			t, _ := s.Values["theme"].(string)
			if t == "" {
				return errNoSession
			}
			s.Values["theme"] = otherTheme(t)
			return s.Save(r, w)
		},
	}
	return rt.mux()
}

// gorillaOptions are the cookie attributes the other contenders send.
func gorillaOptions() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: 86400 * 30, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// newGorillaCookie keeps the session in a cookie signed with HMAC-SHA256.
func newGorillaCookie(context.Context, options) (http.Handler, func(), error) {
	store := sessions.NewCookieStore(signKey)
	store.Options = gorillaOptions()
	return gorillaHandler(store), nop, nil
}

// newGorillaCookieAES keeps it in a cookie encrypted with AES-256-CTR and
// signed with HMAC-SHA256.
func newGorillaCookieAES(context.Context, options) (http.Handler, func(), error) {
	store := sessions.NewCookieStore(signKey, aesKey)
	store.Options = gorillaOptions()
	return gorillaHandler(store), nop, nil
}

// newGorillaFilesystem keeps it in one file per session; the cookie holds
// the signed id.
func newGorillaFilesystem(_ context.Context, o options) (http.Handler, func(), error) {
	dir := filepath.Join(o.workDir, "gorilla-sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	store := sessions.NewFilesystemStore(dir, signKey)
	store.Options = gorillaOptions()
	return gorillaHandler(store), func() { os.RemoveAll(dir) }, nil
}
