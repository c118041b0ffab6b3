package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/twofactor"
)

// config is what main hands to newApp.
type config struct {
	// Secret is Flask's SECRET_KEY: it signs the session cookie and the CSRF
	// tokens as it, so a Flask app with the same key shares both. Other keys
	// (remember tokens, session handles) are derived from it.
	Secret []byte
	// Store is the opened session store.
	Store *sessionStore
	// Users is the account database.
	Users *userDB
	// Argon sets the password hashing cost; zero means defaultArgon.
	Argon argonParams
	// Logger gets one line per request; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LivePoll is how often a /live socket reloads the session to see what
	// the browser's page requests changed; default one second.
	LivePoll time.Duration
}

// app is the demo: every page, over one seshat.Manager, one login.Manager and
// one csrf.Protector.
type app struct {
	cfg       config
	users     *userDB
	store     seshat.Store // nil in cookie mode
	sm        *seshat.Manager
	lm        *login.Manager
	cp        *csrf.Protector
	tf        *twofactor.Manager
	enrolling enrolments // unconfirmed two-factor enrolments
	throttle  throttle
	handleKey []byte // keys the session handles shown on /sessions
	pages     *pages
	log       *slog.Logger
	now       func() time.Time
}

// Session keys of the demo itself. Flask-Login's and Flask-WTF's keys
// (_user_id, _fresh, _id, csrf_token) and Flask's _flashes live beside them.
const (
	keyTheme  = "theme"       // "light" or "dark", chosen before or after login
	keyVisits = "visits"      // pages seen in this session
	keyBumps  = "live_bumps"  // changed only by the websocket goroutine
	keyLogin  = "_demo_login" // loginInfo: when and from where
)

const (
	idleTimeout     = 24 * time.Hour
	absoluteTimeout = 7 * 24 * time.Hour
)

// deriveKey returns a 32-byte key for one purpose, so that the one secret the
// user gives never signs two kinds of thing.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("seshat-demo:" + purpose))
	return m.Sum(nil)
}

// newApp builds the application; Handler serves it.
func newApp(cfg config) (*app, error) {
	if cfg.Argon == (argonParams{}) {
		cfg.Argon = defaultArgon
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LivePoll <= 0 {
		cfg.LivePoll = time.Second
	}
	a := &app{
		cfg:       cfg,
		users:     cfg.Users,
		store:     cfg.Store.Store,
		handleKey: deriveKey(cfg.Secret, "session-handle"),
		log:       cfg.Logger,
		now:       cfg.Now,
		throttle:  throttle{now: cfg.Now},
	}
	// With a store, an id older than an hour is replaced at the next
	// request (OWASP's renewal timeout): a stolen id stops working even
	// while the session lives on. Cookie mode has no id to replace.
	var renewAfter time.Duration
	if a.store != nil {
		renewAfter = time.Hour
	}
	var err error
	a.sm, err = seshat.New(seshat.Config{
		Keys:          [][]byte{cfg.Secret},
		AllowWeakKeys: len(cfg.Secret) < seshat.MinKeyLen, // main warns about it
		Store:         a.store,
		Lifetime:      14 * 24 * time.Hour,
		// A session ends after a day without requests, and a week after
		// login whatever happens; "remember me" logs the user in again.
		IdleTimeout:     idleTimeout,
		AbsoluteTimeout: absoluteTimeout,
		RenewAfter:      renewAfter,
		// The user's generation, raised by a password change and by "log
		// out everywhere", revokes every older session: in cookie mode,
		// where no server state can be deleted, this is what ends them.
		Generation:   a.generation,
		Logger:       cfg.Logger,
		Now:          cfg.Now,
		ErrorHandler: a.sessionError,
	})
	if err != nil {
		return nil, err
	}
	a.cp, err = csrf.New([][]byte{cfg.Secret}, csrf.Options{ErrorHandler: a.csrfError, Now: cfg.Now, AllowWeakKeys: len(cfg.Secret) < seshat.MinKeyLen})
	if err != nil {
		return nil, err
	}
	lc := login.Config{
		LoadUser: a.loadUser,
		// Of what an anonymous visitor put in the session, only these keys
		// become part of the logged-in session (plus flashes and "next").
		KeepOnLogin:     []string{keyTheme, keyVisits, keyBumps},
		LoginURL:        "/login",
		RefreshURL:      "/login",
		MessageCategory: "info",
		Protection:      login.ProtectionBasic,
		OnLogin:         func(r *http.Request, _ login.User) { a.recordLogin(r) },
		OnLoad: func(r *http.Request, u login.User, from login.Source) {
			if from == login.FromRemember {
				a.recordLogin(r)
			}
		},
		Logger: cfg.Logger,
		Now:    cfg.Now,
	}
	if a.store != nil {
		// Remember tokens live beside the sessions: rotated on each use,
		// revocable one by one and all at once through the user index.
		lc.Tokens = login.SessionStoreTokens(a.store)
	} else {
		// No server state in cookie mode: signed tokens, revoked all at once
		// by bumping the user's generation.
		lc.Keys = [][]byte{deriveKey(cfg.Secret, "remember")}
		lc.Generation = a.generation
	}
	a.lm, err = login.New(lc)
	if err != nil {
		return nil, err
	}
	a.tf, err = twofactor.New(twofactor.Config{
		Issuer:   "seshat demo",
		Store:    cfg.Users.TwoFactor(),
		Login:    a.lm,
		LoadUser: a.loadUser,
		// TOTP secrets are stored encrypted, so a copy of demo.db does
		// not hand out second factors.
		SecretKeys: [][]byte{deriveKey(cfg.Secret, "totp-secrets")},
		Now:        cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	a.pages, err = loadPages()
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Handler returns the whole application. Static files are served outside
// the session middleware: they never touch a session.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /theme", a.setTheme)
	mux.HandleFunc("GET /signup", a.signupForm)
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("GET /settings", a.lm.Required(http.HandlerFunc(a.settings)))
	mux.Handle("POST /settings/password", a.lm.Required(http.HandlerFunc(a.changePassword)))
	mux.Handle("GET /sessions", a.lm.Required(http.HandlerFunc(a.sessions)))
	mux.Handle("POST /sessions/revoke", a.lm.Required(http.HandlerFunc(a.revokeSession)))
	mux.Handle("POST /sessions/revoke-all", a.lm.Required(http.HandlerFunc(a.revokeAll)))
	a.routes2FA(mux)
	a.routesLive(mux)
	mux.HandleFunc("/", a.notFound)

	sessioned := a.sm.Handler(a.logRequests(a.cp.Protect(a.lm.Handler(a.revokedNotice(mux)))))
	root := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	root.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	// Browsers ask for /favicon.ico on their own: answer it without a
	// session, like the other static files.
	root.Handle("GET /favicon.ico", http.RedirectHandler("/static/favicon.svg", http.StatusMovedPermanently))
	root.Handle("/", sessioned)
	return root
}

// staticFiles serves the embedded assets with a short cache lifetime.
func staticFiles(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	})
}

// loadUser is Flask-Login's user_loader.
func (a *app) loadUser(ctx context.Context, id string) (login.User, error) {
	u, err := a.users.ByID(ctx, id)
	if errors.Is(err, errNoUser) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// currentUser returns the logged-in user, or nil.
func (a *app) currentUser(r *http.Request) *user {
	u, _ := a.lm.CurrentUser(r).(*user)
	return u
}

// loginInfo is what the sessions page shows about a session: recorded at
// login, kept in the session itself.
type loginInfo struct {
	Tag string `json:"tag"` // random: tells the current session apart in a list
	At  int64  `json:"at"`  // Unix seconds
	UA  string `json:"ua"`  // the browser's User-Agent, shortened
	IP  string `json:"ip"`
}

// recordLogin stores a loginInfo in the session at every login (password or
// remember cookie).
func (a *app) recordLogin(r *http.Request) {
	s := seshat.FromContext(r.Context())
	ua := r.UserAgent()
	if len(ua) > 160 {
		ua = ua[:160]
	}
	info := loginInfo{Tag: randomHex(8), At: a.now().Unix(), UA: ua, IP: clientIP(r)}
	if err := s.Set(keyLogin, info); err != nil {
		a.log.ErrorContext(r.Context(), "record login", "err", err)
	}
}

// generation is seshat.Config.Generation and login.Config.Generation: the
// user's counter of "log out everywhere" events.
func (a *app) generation(ctx context.Context, userID string) (uint64, error) {
	u, err := a.users.ByID(ctx, userID)
	if errors.Is(err, errNoUser) {
		return 0, nil // a deleted user's session names nobody LoadUser finds
	}
	if err != nil {
		return 0, err
	}
	return uint64(u.Generation), nil
}

// revokedNotice tells a browser whose session was revoked by its user's
// generation (a password change or "log out everywhere" elsewhere) why it is
// logged out. Sessions deleted from a store just read as unknown.
func (a *app) revokedNotice(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		switch err := s.LoadError(); {
		case errors.Is(err, seshat.ErrSessionRevoked):
			a.flash(r, "info", "You were signed out: your password changed or you logged out everywhere.")
		case errors.Is(err, seshat.ErrSessionTimeout):
			a.flash(r, "info", "Your session reached its 7-day limit: log in again.")
		}
		next.ServeHTTP(w, r)
	})
}

// endOthers ends every other session of u and keeps this one under a new
// id (login.LogoutOthers), then flashes done and redirects to back. First
// u's generation goes up — with newHash in the same statement that replaces
// the password — which refuses every older cookie-mode session and signed
// remember token; with a store, LogoutOthers also deletes u's other
// sessions and remember tokens through the store's user index.
func (a *app) endOthers(w http.ResponseWriter, r *http.Request, u *user, newHash, done, back string) {
	ctx := r.Context()
	var err error
	if newHash != "" {
		u.Generation, err = a.users.SetPassword(ctx, u.ID(), newHash)
	} else {
		u.Generation, err = a.users.BumpGeneration(ctx, u.ID())
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	n, err := a.lm.LogoutOthers(w, r, a.store)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("log out others: %w", err))
		return
	}
	if err := csrf.Rotate(r); err != nil {
		a.serverError(w, r, err)
		return
	}
	others := "every other session is signed out on its next request"
	if a.store != nil {
		n = max(n-1, 0) // LogoutOthers counted this session's old record
		others = fmt.Sprintf("%d other sessions were signed out", n)
		if n == 1 {
			others = "1 other session was signed out"
		}
	}
	a.log.InfoContext(ctx, done, "user", u.ID(), "revoked", n)
	a.flash(r, "success", done+". This session was renewed; "+others+".")
	redirect(w, r, back)
}
