package main

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/flash"
)

//go:embed templates static
var assets embed.FS

// pages holds one template set per page: the layout plus the page's own file.
type pages struct {
	sets map[string]*template.Template
}

var funcs = template.FuncMap{
	"since": func(t time.Time) string {
		d := time.Since(t).Round(time.Second)
		switch {
		case d < time.Minute:
			return "just now"
		case d < time.Hour:
			return fmt.Sprintf("%d min ago", int(d.Minutes()))
		case d < 48*time.Hour:
			return fmt.Sprintf("%d h ago", int(d.Hours()))
		}
		return t.Format("2 Jan 2006")
	},
	"date": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// view is what every page template gets; Data is the page's own.
type view struct {
	Title   string
	Nav     string // which nav entry is current
	Path    string // where the theme form comes back to
	User    *user
	Theme   string
	CSRF    string
	Flashes []flash.Message
	Store   *sessionStore
	Data    any
}

// render writes page name with status. Everything that touches the session
// (flashes, the CSRF token, the visit counter) happens before the first byte
// goes out, since the session is saved when the header is written.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	set, ok := a.pages.sets[name]
	if !ok {
		a.serverError(w, r, fmt.Errorf("no template %q", name))
		return
	}
	s := seshat.FromContext(r.Context())
	if r.Method == http.MethodGet && status == http.StatusOK {
		if err := s.Set(keyVisits, seshat.GetOr(s, keyVisits, 0)+1); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	tok, err := csrf.Token(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	path := "/"
	if r.Method == http.MethodGet && name != "error" {
		path = r.URL.Path
	}
	v := view{
		Title: title, Nav: name, Path: path, User: a.currentUser(r), Theme: theme(s), CSRF: tok,
		Flashes: flash.Pop(s), Store: a.cfg.Store, Data: data,
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		a.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// theme returns the session's theme, "light" by default.
func theme(s *seshat.Session) string {
	if t := seshat.GetOr(s, keyTheme, ""); t == "dark" {
		return t
	}
	return "light"
}

// flash adds a message for the next page the user sees.
func (a *app) flash(r *http.Request, category, msg string) {
	if err := flash.Add(seshat.FromContext(r.Context()), category, msg); err != nil {
		a.log.ErrorContext(r.Context(), "flash", "err", err)
	}
}

// redirect answers 303 See Other: after a POST the browser GETs the target.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// errorPage is the data of the error template.
type errorPage struct {
	Title, Message string
}

func (a *app) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	a.render(w, r, status, "error", title, errorPage{title, msg})
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	a.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.")
}

// csrfError is csrf.Options.ErrorHandler: the 403 page. err's text is one of
// Flask-WTF's reasons and never holds a token.
func (a *app) csrfError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.WarnContext(r.Context(), "csrf refused", "reason", err.Error())
	a.errorPage(w, r, http.StatusForbidden, "CSRF check failed",
		err.Error()+" The form was not submitted. Go back, reload the page and try again.")
}

// serverError logs err and answers 500 without details.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

// sessionError is seshat.Config.ErrorHandler: the session could not be
// saved or loaded (store outage, oversized cookie).
func (a *app) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "session save failed", "path", r.URL.Path, "err", err)
	if errors.Is(err, seshat.ErrStoreUnavailable) {
		http.Error(w, "The session store is not answering. Try again shortly.", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clientIP is the connection's address: the demo trusts no proxy header.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
