package main

import (
	"errors"
	"net/http"
	"sort"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/sessionlog"
)

// homeData is the home page's: the session laid bare.
type homeData struct {
	Values []kv
	Fresh  bool
	Cookie cookieInfo
}

// cookieInfo describes the session cookie the browser sent, never its value:
// shown on a page, the value would hand any script (an XSS) what HttpOnly
// keeps from it.
type cookieInfo struct {
	Name        string
	Bytes       int    // 0: the browser sent none
	Fingerprint string // what the log lines of this session carry
	Idle, Max   string
}

type kv struct{ Key, Value string }

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := seshat.FromContext(r.Context())
	// Read the keys before render adds the visit and the CSRF secret, and
	// show them as Flask would print them.
	var vals []kv
	for k, v := range s.Values() {
		switch k {
		case csrf.DefaultFieldName:
			vals = append(vals, kv{k, "(the CSRF secret: not shown)"})
		case "_id":
			vals = append(vals, kv{k, "(Flask-Login's session identifier: a hash of your address and browser)"})
		default:
			vals = append(vals, kv{k, pyRepr(v)})
		}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].Key < vals[j].Key })
	ci := cookieInfo{
		Name:        a.sm.CookieName(),
		Fingerprint: sessionlog.Fingerprint(r.Context(), nil),
		Idle:        "24 hours", Max: "7 days",
	}
	if c, err := r.Cookie(ci.Name); err == nil {
		ci.Bytes = len(c.Value)
	}
	a.render(w, r, http.StatusOK, "home", "Home", homeData{Values: vals, Fresh: a.lm.IsFresh(r), Cookie: ci})
}

// setTheme keeps the theme in the session, logged in or not: login and
// logout renew the session but keep its other keys, so the choice survives
// both (FlaskBB keeps an anonymous user's style the same way).
func (a *app) setTheme(w http.ResponseWriter, r *http.Request) {
	t := r.PostFormValue("theme")
	if t != "light" && t != "dark" {
		a.errorPage(w, r, http.StatusBadRequest, "Unknown theme", "Choose light or dark.")
		return
	}
	s := seshat.FromContext(r.Context())
	if err := s.Set(keyTheme, t); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.flash(r, "info", "Theme set to "+t+".")
	next, ok := login.SafeNext(r.PostFormValue("next"))
	if !ok {
		next = "/"
	}
	redirect(w, r, next)
}

// authForm is the data of the signup, login and 2FA forms.
type authForm struct {
	Email string
	Next  string
}

func (a *app) signupForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "signup", "Sign up", authForm{})
}

const minPasswordLen = 8

// passwordProblem says what is wrong with a new password, or "".
func passwordProblem(pw string) string {
	switch {
	case len(pw) < minPasswordLen:
		return "Choose a password of at least 8 characters."
	case len(pw) > maxPasswordLen:
		return "That password is too long."
	}
	return ""
}

func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	email := normalizeEmail(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	form := authForm{Email: email}
	switch {
	case !validEmail(email):
		a.flash(r, "error", "Enter a valid email address.")
	case passwordProblem(password) != "":
		a.flash(r, "error", passwordProblem(password))
	default:
		_, err := a.users.Create(r.Context(), email, hashPassword(password, a.cfg.Argon), a.now())
		if err == nil {
			a.log.InfoContext(r.Context(), "signup")
			a.flash(r, "success", "Account created. You can log in now.")
			redirect(w, r, "/login")
			return
		}
		if !errors.Is(err, errEmailTaken) {
			a.serverError(w, r, err)
			return
		}
		a.flash(r, "error", "An account with this email already exists.")
	}
	a.render(w, r, http.StatusUnprocessableEntity, "signup", "Sign up", form)
}

func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	next, _ := login.SafeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "login", "Log in", authForm{Next: next})
}

// dummyHash is checked when the email is unknown, so that a wrong email
// takes as long as a wrong password and the timing tells nobody which
// addresses have accounts.
var dummyHash = hashPassword("not a real password", defaultArgon)

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	email := normalizeEmail(r.PostFormValue("email"))
	next, ok := login.SafeNext(r.PostFormValue("next"))
	if !ok {
		next = "/"
	}
	ip := clientIP(r)
	if !a.throttle.allowed(email, ip) {
		a.log.WarnContext(r.Context(), "login throttled")
		a.flash(r, "error", "Too many failed logins: wait 15 minutes and try again.")
		a.render(w, r, http.StatusTooManyRequests, "login", "Log in", authForm{Email: email, Next: next})
		return
	}
	u, err := a.users.ByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, errNoUser) {
		a.serverError(w, r, err)
		return
	}
	hash := dummyHash
	if u != nil {
		hash = u.passwordHash
	}
	good, err := checkPassword(r.PostFormValue("password"), hash)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if u == nil || !good {
		a.throttle.failed(email, ip)
		a.log.InfoContext(r.Context(), "login failed")
		a.flash(r, "error", "Wrong email or password.")
		a.render(w, r, http.StatusUnauthorized, "login", "Log in", authForm{Email: email, Next: next})
		return
	}
	a.throttle.succeeded(email, ip)
	remember := r.PostFormValue("remember") == "1"
	// Begin logs in a user without a second factor at once; for one with,
	// it renews the session and keeps the half-done login in the tf_ keys.
	pending, err := a.tf.Begin(w, r, u, remember)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if pending {
		a.log.InfoContext(r.Context(), "password accepted, code needed", "user", u.ID())
		redirect(w, r, codeURL(next))
		return
	}
	a.finishLogin(w, r, u, "Logged in. Welcome, "+u.Email+".", next)
}

// finishLogin runs once u is logged in (login.LoginUser has run).
func (a *app) finishLogin(w http.ResponseWriter, r *http.Request, u *user, msg, next string) {
	// Tokens minted before login stop working (login CSRF).
	if err := csrf.Rotate(r); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "login", "user", u.ID())
	a.flash(r, "success", msg)
	redirect(w, r, next)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.tf.Cancel(r)
	if err := a.lm.LogoutUser(w, r); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.flash(r, "info", "Logged out.")
	redirect(w, r, "/")
}
