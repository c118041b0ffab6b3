package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flash"
)

// Flask-Login 0.6.2's session keys.
const (
	KeyUserID          = "_user_id"
	KeyFresh           = "_fresh"
	KeyID              = "_id"
	KeyRemember        = "_remember"
	KeyRememberSeconds = "_remember_seconds"
	KeyNext            = "next"
)

// sessionKeys is Flask-Login's SESSION_KEYS, dropped by strong protection.
var sessionKeys = [...]string{KeyUserID, KeyRemember, KeyRememberSeconds, KeyID, KeyFresh, KeyNext}

// Defaults.
const (
	// DefaultRememberDuration is Flask-Login's REMEMBER_COOKIE_DURATION.
	DefaultRememberDuration = 365 * 24 * time.Hour
	// MaxRememberDuration is the longest cookie lifetime browsers honour
	// (RFC 6265bis caps Expires and Max-Age at 400 days).
	MaxRememberDuration = 400 * 24 * time.Hour
	// DefaultRememberCookie is Flask-Login's REMEMBER_COOKIE_NAME.
	DefaultRememberCookie = "remember_token"
	// DefaultLoginMessage is Flask-Login's login_message.
	DefaultLoginMessage = "Please log in to access this page."
	// DefaultRefreshMessage is Flask-Login's needs_refresh_message.
	DefaultRefreshMessage = "Please reauthenticate to access this page."
	// DefaultMessageCategory is the flash category of both messages.
	DefaultMessageCategory = "message"
)

// Errors.
var (
	// ErrNoMiddleware means the request did not pass through
	// [Manager.Handler] (inside seshat's Manager.Handler).
	ErrNoMiddleware = errors.New("login: request not wrapped by login.Manager.Handler inside seshat.Manager.Handler")
	// ErrInactive is returned by LoginUser for a user whose IsActive
	// reports false, unless LoginOptions.Force is set.
	ErrInactive = errors.New("login: user is not active")
	// ErrNoID is returned by LoginUser for a user whose ID is "".
	ErrNoID = errors.New("login: user has an empty ID")
	// ErrNoUserIndex is returned by LogoutEverywhere for a session store
	// that keeps no per-user index (seshat.UserIndex).
	ErrNoUserIndex = errors.New("login: the session store cannot list a user's sessions")
	// ErrConfig wraps configuration errors from New.
	ErrConfig = errors.New("login: invalid configuration")
)

// User is a user the application can log in. ID returns the string stored
// under "_user_id" (Flask-Login's get_id()); it must be non-empty.
type User interface {
	ID() string
}

// ActiveUser is implemented by users that can be inactive (Flask-Login's
// is_active); LoginUser refuses an inactive user unless forced.
type ActiveUser interface {
	User
	IsActive() bool
}

// Protection is the session protection mode (Flask-Login's
// SESSION_PROTECTION).
type Protection int

const (
	// ProtectionBasic (the default, as in Flask-Login): when the session's
	// "_id" does not match the request's identifier, the session is marked
	// not fresh; the user stays logged in.
	ProtectionBasic Protection = iota
	// ProtectionStrong: on a mismatch in a non-permanent session, the
	// login keys are dropped and the remember cookie is deleted, so the
	// user is logged out. A permanent session gets basic's treatment, as in
	// Flask-Login.
	ProtectionStrong
	// ProtectionOff disables the check.
	ProtectionOff
)

// RememberMode selects the remember-me cookie's format.
type RememberMode int

const (
	// RememberTokens (the default) issues seshat's own tokens: with
	// Config.Tokens, "selector:validator" with only SHA-256(validator)
	// stored, rotated on use and revocable; without, a signed token
	// carrying the user id, its expiry and a generation number (see
	// Config.Generation).
	RememberTokens RememberMode = iota
	// RememberFlask issues Flask-Login 0.6.2's cookie, "id|hex(HMAC-SHA512
	// (key, id))", so a Flask app with the same secret shares it. Such a
	// cookie never expires on the server and cannot be revoked: anyone who
	// copies it is logged in as that user until the key changes, however
	// old the copy. Use it only while a Flask app must read the cookie.
	RememberFlask
)

// Source says how the current user was loaded.
type Source int

const (
	// FromSession means the session carried "_user_id".
	FromSession Source = iota + 1
	// FromRemember means the remember cookie logged the user in.
	FromRemember
)

// CookieOptions are the remember cookie's name and attributes.
type CookieOptions struct {
	// Name; default "remember_token".
	Name string
	// Domain attribute; default none (host-only).
	Domain string
	// Path attribute; default "/".
	Path string
	// Secure: seshat.SecureAuto (default) on TLS requests only,
	// SecureAlways, or SecureNever.
	Secure seshat.SecureMode
	// DisableHTTPOnly drops HttpOnly (on by default, as in Flask-Login).
	DisableHTTPOnly bool
	// SameSite attribute. The zero value means Lax with RememberTokens and
	// no attribute with RememberFlask (Flask-Login's default).
	SameSite http.SameSite
}

// Config configures a [Manager]. LoadUser is required; so is
// FlaskRememberKey with RememberFlask, and Keys or Tokens with
// RememberTokens.
type Config struct {
	// LoadUser returns the user with the given id (Flask-Login's
	// user_loader). It returns nil, nil for an unknown id; an error makes
	// the request anonymous without touching the session, and Required
	// answers 503.
	LoadUser func(ctx context.Context, id string) (User, error)
	// Anonymous is what CurrentUser returns when nobody is logged in;
	// default AnonymousUser{}.
	Anonymous User
	// LoginURL is where Required redirects anonymous users (login_view);
	// "" answers 401 instead.
	LoginURL string
	// RefreshURL is where FreshRequired redirects users whose login is not
	// fresh (refresh_view); "" answers 401 instead.
	RefreshURL string
	// LoginMessage and RefreshMessage are flashed before those redirects;
	// default Flask-Login's texts. NoFlash disables both.
	LoginMessage, RefreshMessage string
	// MessageCategory is their flash category; default "message".
	MessageCategory string
	// NoFlash flashes nothing before the redirects.
	NoFlash bool
	// UseSessionForNext keeps the next URL in the session under "next"
	// instead of the query (USE_SESSION_FOR_NEXT).
	UseSessionForNext bool
	// Unauthorized and NeedsRefresh, when set, replace the redirects.
	Unauthorized, NeedsRefresh http.Handler
	// Protection is the session protection mode; default basic.
	Protection Protection
	// TrustForwardedFor computes the session identifier from the first
	// X-Forwarded-For address instead of the connection's. Flask-Login
	// always trusts that header, which any client can set; turn this on
	// only behind a proxy that overwrites it, or to match a Flask app
	// behind such a proxy.
	TrustForwardedFor bool
	// Remember selects the remember cookie's format; default RememberTokens.
	Remember RememberMode
	// RememberDuration is the remember cookie's lifetime; default 365 days.
	// Over MaxRememberDuration (400 days) New refuses it.
	RememberDuration time.Duration
	// RememberRefreshEachRequest re-issues the remember cookie with a new
	// expiry on every request of a logged-in user
	// (REMEMBER_COOKIE_REFRESH_EACH_REQUEST). With RememberFlask it behaves
	// exactly like Flask-Login: every logged-in user gets a remember cookie,
	// even one who did not ask to be remembered. With RememberTokens only a
	// cookie the request carried is refreshed.
	RememberRefreshEachRequest bool
	// RememberCookie is the remember cookie's name and attributes.
	RememberCookie CookieOptions
	// FlaskRememberKey signs RememberFlask cookies: Flask's SECRET_KEY,
	// Latin-1 encoded for a str key (see Latin1Key).
	FlaskRememberKey []byte
	// Tokens stores RememberTokens' tokens; nil signs them instead with
	// Keys.
	Tokens TokenStore
	// Keys sign RememberTokens' tokens when Tokens is nil (the last signs,
	// all verify); each at least 32 bytes.
	Keys [][]byte
	// Generation, with Keys and no Tokens, returns the user's current
	// token generation; a token minted under an older generation is
	// refused, so bumping it in the application's database revokes every
	// remember token of that user. Without it a signed token cannot be
	// revoked before it expires.
	Generation func(ctx context.Context, userID string) (uint64, error)
	// UserStamp, with Tokens, returns what tells the account userID names
	// apart from every other account that has held or will hold that id:
	// a random value created with the account (Flask-Security-Too's
	// fs_uniquifier) or its creation time. A token records the SHA-256 of
	// the stamp when it is issued and is refused, and deleted, when the
	// user's stamp has changed since: the remember cookie of a deleted
	// account never logs in a new account that reuses its id (RM-01), and
	// replacing a user's stamp revokes all of that user's tokens. Tokens
	// issued before UserStamp was set carry no stamp and are refused too.
	// An error fails the remember login like a token store error. With
	// Keys instead of Tokens, Generation plays this part: return a value
	// unique to the account (its creation time in nanoseconds, say).
	UserStamp func(ctx context.Context, userID string) (string, error)
	// TokenGrace is how long after a rotation the previous validator is
	// still accepted (without a new rotation), for concurrent requests of
	// one browser; default 30 seconds. Later reuse is treated as theft.
	TokenGrace time.Duration
	// DestroyOnLogout makes LogoutUser destroy the whole session; by
	// default it removes Flask-Login's keys and renews the session (new id,
	// old one dead), keeping the application's other keys as Flask-Login
	// does.
	DestroyOnLogout bool
	// KeepOnLogin, when not nil, lists the session keys that survive
	// LoginUser; every other key of the pre-login session is deleted, so
	// state written while anonymous (an "mfa_ok" or "role" flag set through
	// a fixated or shared browser) never becomes part of the authenticated
	// session (LC-03, OWASP "renew on privilege change"). The permanent
	// flag, pending flashes, "next" and seshat's creation time are always
	// kept. nil keeps every key, as Flask-Login does. Whatever the setting,
	// LoginUser, ConfirmLogin and LogoutUser rotate the CSRF secret.
	KeepOnLogin []string
	// OnLogin, OnLogout and OnLoad are called after a login, after a
	// logout, and when a request's user is loaded.
	OnLogin  func(r *http.Request, u User)
	OnLogout func(r *http.Request, u User)
	OnLoad   func(r *http.Request, u User, from Source)
	// OnTheft is called when a rotated-out remember token is presented
	// again; every remember token of the user has then been revoked.
	OnTheft func(ctx context.Context, userID string)
	// Logger gets failures (at Error) and theft reports (at Warn); default
	// slog.Default(). Nothing logged contains a token or session value.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// AnonymousUser is the default anonymous user: its ID is "".
type AnonymousUser struct{}

// ID returns "".
func (AnonymousUser) ID() string { return "" }

// Manager logs users in and out over seshat sessions. Create it with [New]
// and wrap handlers with [Manager.Handler] inside seshat's
// Manager.Handler. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	tokens tokenIssuer
}

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.LoadUser == nil {
		return nil, fmt.Errorf("%w: LoadUser is required", ErrConfig)
	}
	if cfg.Anonymous == nil {
		cfg.Anonymous = AnonymousUser{}
	}
	if cfg.LoginMessage == "" {
		cfg.LoginMessage = DefaultLoginMessage
	}
	if cfg.RefreshMessage == "" {
		cfg.RefreshMessage = DefaultRefreshMessage
	}
	if cfg.MessageCategory == "" {
		cfg.MessageCategory = DefaultMessageCategory
	}
	if cfg.RememberDuration == 0 {
		cfg.RememberDuration = DefaultRememberDuration
	}
	if cfg.RememberDuration < 0 || cfg.RememberDuration > MaxRememberDuration {
		return nil, fmt.Errorf("%w: RememberDuration must be positive and at most 400 days (RFC 6265bis)", ErrConfig)
	}
	if cfg.TokenGrace <= 0 {
		cfg.TokenGrace = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &cfg.RememberCookie
	if c.Name == "" {
		c.Name = DefaultRememberCookie
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 && cfg.Remember == RememberTokens {
		c.SameSite = http.SameSiteLaxMode
	}
	if strings.ContainsAny(c.Name+c.Domain+c.Path, ";,\r\n\x00 \t") || strings.ContainsAny(c.Name, "=") {
		return nil, fmt.Errorf("%w: remember cookie name, Domain or Path has a forbidden character", ErrConfig)
	}
	if c.SameSite == http.SameSiteNoneMode && c.Secure == seshat.SecureNever {
		return nil, fmt.Errorf("%w: SameSite=None requires Secure", ErrConfig)
	}
	if err := checkPrefix(c); err != nil {
		return nil, err
	}
	if cfg.UserStamp != nil && (cfg.Remember != RememberTokens || cfg.Tokens == nil) {
		// Only a stored token can record a stamp; elsewhere it would
		// silently protect nothing.
		return nil, fmt.Errorf("%w: UserStamp needs RememberTokens with Tokens (with Keys, use Generation)", ErrConfig)
	}
	m := &Manager{cfg: cfg}
	switch cfg.Remember {
	case RememberFlask:
		if len(cfg.FlaskRememberKey) == 0 {
			return nil, fmt.Errorf("%w: RememberFlask needs FlaskRememberKey", ErrConfig)
		}
		m.tokens = flaskTokens{key: cfg.FlaskRememberKey}
	case RememberTokens:
		switch {
		case cfg.Tokens != nil:
			m.tokens = &storeTokens{m: m, store: cfg.Tokens, stamp: cfg.UserStamp}
		case len(cfg.Keys) > 0:
			for i, k := range cfg.Keys {
				if len(k) < 32 {
					return nil, fmt.Errorf("%w: key %d is shorter than 32 bytes", ErrConfig, i)
				}
			}
			m.tokens = &signedTokens{m: m, keys: cfg.Keys, gen: cfg.Generation}
		default:
			return nil, fmt.Errorf("%w: RememberTokens needs Tokens or Keys", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: unknown RememberMode %d", ErrConfig, cfg.Remember)
	}
	return m, nil
}

// state is one request's login state.
type state struct {
	r        *http.Request
	loaded   bool
	user     User
	authed   bool
	err      error
	clear    bool // the remember cookie must be deleted (logout)
	rotated  string
	rotateTo time.Time
	done     bool
}

type ctxKey struct{}

// Handler returns middleware that gives each request its login state and
// writes the remember cookie just before the response header, as
// Flask-Login's after_request hook does. It must run inside seshat's
// Manager.Handler:
//
//	sm.Handler(lm.Handler(mux))
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		st.r = r
		lw := &writer{ResponseWriter: w, before: func() { m.after(w.Header(), st) }}
		next.ServeHTTP(lw, r)
		lw.hook()
	})
}

func (m *Manager) state(r *http.Request) (*state, *seshat.Session, error) {
	st, ok := r.Context().Value(ctxKey{}).(*state)
	if !ok {
		return nil, nil, ErrNoMiddleware
	}
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return nil, nil, ErrNoMiddleware
	}
	return st, s, nil
}

// LoginOptions are LoginUser's options.
type LoginOptions struct {
	// Remember sets the remember cookie (login_user's remember=True).
	Remember bool
	// Duration overrides Config.RememberDuration for this cookie; it is
	// stored in the session as "_remember_seconds" and clamped to
	// MaxRememberDuration.
	Duration time.Duration
	// NotFresh marks the login not fresh (login_user's fresh=False);
	// logins are fresh by default.
	NotFresh bool
	// Force logs in a user whose IsActive reports false.
	Force bool
}

// LoginUser logs user in: it renews the session (a new id in store mode,
// the old one dead, against fixation), records the owner with
// Session.SetUserID for "log out everywhere", and sets Flask-Login's keys
// "_user_id", "_fresh" and "_id" (and "_remember_seconds" with a Duration).
// With opts.Remember the remember cookie goes out with the response. w is
// the handler's writer; the cookie itself is written by Handler.
func (m *Manager) LoginUser(w http.ResponseWriter, r *http.Request, user User, opts LoginOptions) error {
	_ = w
	st, s, err := m.state(r)
	if err != nil {
		return err
	}
	if au, ok := user.(ActiveUser); ok && !opts.Force && !au.IsActive() {
		return ErrInactive
	}
	id := user.ID()
	if id == "" {
		return ErrNoID
	}
	if opts.Remember && m.cfg.Remember == RememberFlask {
		if err := checkCookieValue(id); err != nil {
			return err
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	m.dropPreLogin(s)
	rotateCSRF(r)
	s.Renew()
	s.SetUserID(id)
	if err := s.Set(KeyUserID, id); err != nil {
		return err
	}
	_ = s.Set(KeyFresh, !opts.NotFresh)
	_ = s.Set(KeyID, Identifier(r, m.cfg.TrustForwardedFor))
	if opts.Remember {
		_ = s.Set(KeyRemember, "set")
		if opts.Duration > 0 {
			d := min(opts.Duration, MaxRememberDuration)
			_ = s.Set(KeyRememberSeconds, d.Seconds())
		}
	}
	st.loaded, st.user, st.authed, st.err = true, user, true, nil
	if m.cfg.OnLogin != nil {
		m.cfg.OnLogin(r, user)
	}
	return nil
}

// LogoutUser logs the current user out: it removes "_user_id", "_fresh"
// and "_id", deletes the remember cookie (Max-Age=0) and, with
// RememberTokens, revokes the token it carried. With RememberFlask the
// cookie is deleted only when the request carried it, as Flask-Login does.
// The session is then renewed (new id, old one dead; the application's
// other keys stay), or destroyed with Config.DestroyOnLogout.
func (m *Manager) LogoutUser(w http.ResponseWriter, r *http.Request) error {
	_ = w
	st, s, err := m.state(r)
	if err != nil {
		return err
	}
	user := m.CurrentUser(r)
	s.Delete(KeyUserID)
	s.Delete(KeyFresh)
	s.Delete(KeyID)
	if c := m.requestCookie(r); c != "" || m.cfg.Remember == RememberTokens {
		_ = s.Set(KeyRemember, "clear")
		s.Delete(KeyRememberSeconds)
		st.clear = true
		if c != "" {
			if err := m.tokens.revoke(r.Context(), c); err != nil {
				m.cfg.Logger.Error("login: revoking the remember token failed", "err", err.Error())
			}
		}
	}
	s.SetUserID("")
	rotateCSRF(r)
	if m.cfg.DestroyOnLogout {
		s.Destroy()
	} else {
		s.Renew()
	}
	st.loaded, st.user, st.authed, st.err = true, m.cfg.Anonymous, false, nil
	if m.cfg.OnLogout != nil && user != nil {
		m.cfg.OnLogout(r, user)
	}
	return nil
}

// RevokeRemembered revokes every remember token of userID (for "log out
// everywhere" and after a password change). With RememberFlask it cannot
// and returns ErrNotRevocable; with signed tokens it returns ErrNotRevocable
// too: bump the generation that Config.Generation reads instead.
func (m *Manager) RevokeRemembered(ctx context.Context, userID string) error {
	return m.tokens.revokeUser(ctx, userID)
}

// LogoutEverywhere ends every session of userID — after a password change,
// a stolen device, or a "log out everywhere" button: it revokes the user's
// remember tokens and, when sessions is not nil (the seshat session store),
// deletes every session the user owns through its per-user index. It
// returns how many sessions it deleted. The current request's session is
// among them when it belongs to userID; call LogoutUser as well to clear the
// cookies of the browser making the request.
func (m *Manager) LogoutEverywhere(ctx context.Context, sessions seshat.Store, userID string) (int, error) {
	if err := m.RevokeRemembered(ctx, userID); err != nil {
		return 0, err
	}
	return revokeSessions(ctx, sessions, userID)
}

// revokeSessions deletes every stored session of userID (none when sessions
// is nil, cookie mode).
func revokeSessions(ctx context.Context, sessions seshat.Store, userID string) (int, error) {
	if sessions == nil {
		return 0, nil
	}
	ui, ok := sessions.(seshat.UserIndex)
	if !ok {
		return 0, ErrNoUserIndex
	}
	n, err := ui.RevokeUser(ctx, userID)
	if err != nil {
		return n, fmt.Errorf("login: log out everywhere: %w", err)
	}
	return n, nil
}

// CurrentUser returns the request's user, loading it once per request
// (Flask-Login's current_user): from the session's "_user_id", or from the
// remember cookie. It returns Config.Anonymous when nobody is logged in.
// The per-request methods (CurrentUser, LoginUser, LogoutUser,
// ConfirmLogin) keep state for the request without locking: call them from
// the handler's goroutine, or synchronise goroutines that share a request.
func (m *Manager) CurrentUser(r *http.Request) User {
	st, s, err := m.state(r)
	if err != nil {
		m.cfg.Logger.Error("login: CurrentUser", "err", err.Error())
		return m.cfg.Anonymous
	}
	if !st.loaded {
		st.loaded = true
		st.user, st.authed, st.err = m.load(r, st, s)
		if st.user == nil || !st.authed {
			st.user, st.authed = m.cfg.Anonymous, false
		}
	}
	return st.user
}

// IsAuthenticated reports whether a user is logged in on r.
func (m *Manager) IsAuthenticated(r *http.Request) bool {
	m.CurrentUser(r)
	st, _, err := m.state(r)
	return err == nil && st.authed
}

// IsFresh reports whether the login is fresh (Flask-Login's login_fresh):
// it was made with a password in this session, not restored from the
// remember cookie nor flagged by session protection.
func (m *Manager) IsFresh(r *http.Request) bool {
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return false
	}
	v, _ := s.Get(KeyFresh)
	return v == true
}

// ConfirmLogin marks the login fresh again after the user re-entered their
// password (Flask-Login's confirm_login) and records the current
// identifier.
func (m *Manager) ConfirmLogin(r *http.Request) error {
	_, s, err := m.state(r)
	if err != nil {
		return err
	}
	s.Renew()
	rotateCSRF(r)
	_ = s.Set(KeyFresh, true)
	return s.Set(KeyID, Identifier(r, m.cfg.TrustForwardedFor))
}

// Required protects h: an anonymous request is redirected to
// Config.LoginURL with the current path as next (or answered 401 when
// LoginURL is ""), after flashing Config.LoginMessage, as Flask-Login's
// login_required does. OPTIONS requests pass. When the user store failed,
// the answer is 503.
func (m *Manager) Required(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || m.IsAuthenticated(r) {
			h.ServeHTTP(w, r)
			return
		}
		m.unauthorized(w, r)
	})
}

// FreshRequired protects h like Required and, in addition, sends users
// whose login is not fresh (restored from a remember cookie, or flagged by
// session protection) to Config.RefreshURL after flashing
// Config.RefreshMessage (fresh_login_required).
func (m *Manager) FreshRequired(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			h.ServeHTTP(w, r)
			return
		}
		if !m.IsAuthenticated(r) {
			m.unauthorized(w, r)
			return
		}
		if !m.IsFresh(r) {
			if m.cfg.NeedsRefresh != nil {
				m.cfg.NeedsRefresh.ServeHTTP(w, r)
				return
			}
			m.redirectTo(w, r, m.cfg.RefreshURL, m.cfg.RefreshMessage)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (m *Manager) unauthorized(w http.ResponseWriter, r *http.Request) {
	if st, _, err := m.state(r); err == nil && st.err != nil {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	if m.cfg.Unauthorized != nil {
		m.cfg.Unauthorized.ServeHTTP(w, r)
		return
	}
	m.redirectTo(w, r, m.cfg.LoginURL, m.cfg.LoginMessage)
}

// redirectTo flashes msg and redirects to view with the current URL as
// next, as Flask-Login's unauthorized and needs_refresh do.
func (m *Manager) redirectTo(w http.ResponseWriter, r *http.Request, view, msg string) {
	if view == "" {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if !m.cfg.NoFlash {
		if err := flash.Add(s, m.cfg.MessageCategory, msg); err != nil {
			m.cfg.Logger.Error("login: flash failed", "err", err.Error())
		}
	}
	var loc string
	if m.cfg.UseSessionForNext {
		_ = s.Set(KeyID, Identifier(r, m.cfg.TrustForwardedFor))
		_ = s.Set(KeyNext, nextParam(view, r))
		loc = view
	} else {
		loc = LoginURL(view, r)
	}
	writeRedirect(w, loc)
}

// LoginURL returns Flask-Login's make_login_url(view, next_url=request.url):
// view with a "next" query parameter holding r's path and query (the full
// URL when view is on another host), the query sorted and encoded as
// Werkzeug does.
func LoginURL(view string, r *http.Request) string {
	base, frag, _ := strings.Cut(view, "#")
	base, q, _ := strings.Cut(base, "?")
	vals, _ := url.ParseQuery(q)
	vals.Set("next", nextParam(view, r))
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range vals[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(werkzeugQuery(k))
			b.WriteByte('=')
			b.WriteString(werkzeugQuery(v))
		}
	}
	out := base + "?" + b.String()
	if frag != "" {
		out += "#" + frag
	}
	return out
}

// nextParam is Flask-Login's make_next_param(login_url, request.url).
func nextParam(view string, r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	rel := path
	if r.URL.RawQuery != "" {
		rel += "?" + r.URL.RawQuery
	}
	lu, err := url.Parse(view)
	if err == nil && (lu.Scheme == "" || lu.Scheme == scheme) && (lu.Host == "" || lu.Host == r.Host) {
		return rel
	}
	return scheme + "://" + r.Host + rel
}

// writeRedirect answers 302 with Werkzeug's redirect body.
func writeRedirect(w http.ResponseWriter, loc string) {
	esc := pyHTMLEscape(loc)
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"%s\">%s</a>. If not, click the link.\n", esc, esc)
}

var pyHTMLEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;")

func pyHTMLEscape(s string) string { return pyHTMLEscaper.Replace(s) }

// sessionString returns a session value that Flask-Login reads as a str.
func sessionString(s *seshat.Session, key string) (string, bool) {
	v, ok := s.Get(key)
	switch x := v.(type) {
	case string:
		return x, ok
	case int64:
		return strconv.FormatInt(x, 10), ok
	}
	return "", false
}

// protectionFailed is Flask-Login's _session_protection_failed.
func (m *Manager) protectionFailed(r *http.Request, s *seshat.Session) bool {
	if m.cfg.Protection == ProtectionOff || s.Len() == 0 {
		return false
	}
	ident := Identifier(r, m.cfg.TrustForwardedFor)
	if id, _ := s.Get(KeyID); id == ident {
		return false
	}
	if m.cfg.Protection == ProtectionBasic || s.Permanent() {
		if v, _ := s.Get(KeyFresh); v != false {
			_ = s.Set(KeyFresh, false)
		}
		return false
	}
	for _, k := range sessionKeys {
		s.Delete(k)
	}
	_ = s.Set(KeyRemember, "clear")
	return true
}

// load is Flask-Login's _load_user.
func (m *Manager) load(r *http.Request, st *state, s *seshat.Session) (User, bool, error) {
	if err := s.Err(); err != nil {
		return nil, false, err
	}
	if m.protectionFailed(r, s) {
		return nil, false, nil
	}
	ctx := r.Context()
	if id, ok := sessionString(s, KeyUserID); ok {
		u, err := m.cfg.LoadUser(ctx, id)
		if err != nil {
			m.cfg.Logger.Error("login: LoadUser failed", "err", err.Error())
			return nil, false, err
		}
		if u != nil {
			m.loaded(r, u, FromSession)
			return u, true, nil
		}
	}
	c := m.requestCookie(r)
	if c == "" {
		return nil, false, nil
	}
	if v, _ := s.Get(KeyRemember); v == "clear" {
		return nil, false, nil
	}
	return m.loadRemembered(r, st, s, c)
}

func (m *Manager) loaded(r *http.Request, u User, from Source) {
	if m.cfg.OnLoad != nil {
		m.cfg.OnLoad(r, u, from)
	}
}

// loadRemembered logs the user in from the remember cookie c.
func (m *Manager) loadRemembered(r *http.Request, st *state, s *seshat.Session, c string) (User, bool, error) {
	ctx := r.Context()
	id, newValue, exp, err := m.tokens.use(ctx, c)
	if err != nil {
		if errors.Is(err, errTheft) {
			m.cfg.Logger.Warn("login: a rotated-out remember token was presented again; all of the user's remember tokens are revoked")
			if m.cfg.OnTheft != nil {
				m.cfg.OnTheft(ctx, id)
			}
			_ = s.Set(KeyRemember, "clear")
			return nil, false, nil
		}
		if errors.Is(err, errBadToken) {
			if m.cfg.Remember == RememberTokens {
				st.clear = true
			}
			return nil, false, nil
		}
		m.cfg.Logger.Error("login: remember token check failed", "err", err.Error())
		return nil, false, err
	}
	flaskMode := m.cfg.Remember == RememberFlask
	if flaskMode {
		// Flask-Login sets the keys before it knows the user exists.
		_ = s.Set(KeyUserID, id)
		_ = s.Set(KeyFresh, false)
	}
	u, err := m.cfg.LoadUser(ctx, id)
	if err != nil {
		m.cfg.Logger.Error("login: LoadUser failed", "err", err.Error())
		return nil, false, err
	}
	if u == nil {
		if !flaskMode {
			// The user is gone: retire the token and its cookie.
			if newValue != "" {
				c = newValue
			}
			if err := m.tokens.revoke(ctx, c); err != nil {
				m.cfg.Logger.Error("login: revoking the remember token failed", "err", err.Error())
			}
			st.clear = true
		}
		return nil, false, nil
	}
	s.Renew()
	s.SetUserID(id)
	if !flaskMode {
		_ = s.Set(KeyUserID, id)
		_ = s.Set(KeyFresh, false)
		// Unlike Flask-Login, record the identifier, so that strong
		// protection does not log out a user it just logged in.
		_ = s.Set(KeyID, Identifier(r, m.cfg.TrustForwardedFor))
	}
	if newValue != "" {
		st.rotated, st.rotateTo = newValue, exp
	}
	m.loaded(r, u, FromRemember)
	return u, true, nil
}

// requestCookie returns the first remember cookie of r, or "".
func (m *Manager) requestCookie(r *http.Request) string {
	c, err := r.Cookie(m.cfg.RememberCookie.Name)
	if err != nil {
		return ""
	}
	return c.Value
}

// after is Flask-Login's _update_remember_cookie, run just before the
// response header goes out.
func (m *Manager) after(h http.Header, st *state) {
	if st.done {
		return
	}
	st.done = true
	r := st.r
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return
	}
	refresh := m.cfg.RememberRefreshEachRequest
	if !refresh && !s.Accessed() && !st.clear {
		return // nothing this request did can have asked for a cookie
	}
	if refresh && m.cfg.Remember == RememberFlask && !s.Has(KeyRemember) {
		_ = s.Set(KeyRemember, "set")
	}
	op, _ := s.Pop(KeyRemember)
	secure := m.secure(r)
	switch {
	case st.clear || op == "clear":
		h.Add("Set-Cookie", m.deleteHeader(secure))
	case op == "set":
		id, ok := sessionString(s, KeyUserID)
		if !ok {
			return
		}
		d := m.cfg.RememberDuration
		if v, ok := s.Get(KeyRememberSeconds); ok {
			if f, ok := toSeconds(v); ok {
				d = min(time.Duration(f*float64(time.Second)), MaxRememberDuration)
			}
		}
		now := m.cfg.Now()
		val, err := m.tokens.issue(r.Context(), id, now.Add(d))
		if err != nil {
			m.cfg.Logger.Error("login: issuing a remember token failed", "err", err.Error())
			return
		}
		h.Add("Set-Cookie", m.cookieHeader(val, now.Add(d), secure))
	case st.rotated != "":
		h.Add("Set-Cookie", m.cookieHeader(st.rotated, st.rotateTo, secure))
	case refresh && m.cfg.Remember == RememberTokens && st.authed:
		c := m.requestCookie(r)
		if c == "" {
			return
		}
		exp := m.cfg.Now().Add(m.cfg.RememberDuration)
		val, err := m.tokens.refresh(r.Context(), c, exp)
		if err != nil || val == "" {
			return
		}
		h.Add("Set-Cookie", m.cookieHeader(val, exp, secure))
	}
}

func toSeconds(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func (m *Manager) secure(r *http.Request) bool {
	switch m.cfg.RememberCookie.Secure {
	case seshat.SecureAlways:
		return true
	case seshat.SecureNever:
		return false
	}
	return r.TLS != nil
}

// cookieHeader writes the remember cookie in Werkzeug's attribute order.
func (m *Manager) cookieHeader(value string, expires time.Time, secure bool) string {
	c := m.cfg.RememberCookie
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteByte('=')
	b.WriteString(value)
	if c.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(c.Domain)
	}
	b.WriteString("; Expires=")
	b.WriteString(expires.UTC().Format(http.TimeFormat))
	if m.cfg.Remember == RememberTokens {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.FormatInt(int64(max(0, expires.Sub(m.cfg.Now()).Round(time.Second)/time.Second)), 10))
	}
	if secure {
		b.WriteString("; Secure")
	}
	if !c.DisableHTTPOnly {
		b.WriteString("; HttpOnly")
	}
	b.WriteString("; Path=")
	b.WriteString(c.Path)
	b.WriteString(sameSite(c.SameSite))
	return b.String()
}

// deleteHeader deletes the remember cookie. With RememberFlask it is
// Werkzeug's delete_cookie as Flask-Login calls it (no Secure, HttpOnly or
// SameSite); otherwise it keeps the cookie's attributes.
func (m *Manager) deleteHeader(secure bool) string {
	c := m.cfg.RememberCookie
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteString("=")
	if c.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(c.Domain)
	}
	b.WriteString("; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0")
	if m.cfg.Remember != RememberTokens && prefixed(c.Name) {
		// Werkzeug's deletion has no Secure, and browsers ignore a
		// __Secure-/__Host- cookie without it: the cookie would stay.
		b.WriteString("; Secure")
	}
	if m.cfg.Remember == RememberTokens {
		if secure {
			b.WriteString("; Secure")
		}
		if !c.DisableHTTPOnly {
			b.WriteString("; HttpOnly")
		}
	}
	b.WriteString("; Path=")
	b.WriteString(c.Path)
	if m.cfg.Remember == RememberTokens {
		b.WriteString(sameSite(c.SameSite))
	}
	return b.String()
}

func sameSite(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "; SameSite=Lax"
	case http.SameSiteStrictMode:
		return "; SameSite=Strict"
	case http.SameSiteNoneMode:
		return "; SameSite=None"
	}
	return ""
}
