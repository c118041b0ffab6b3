package seshat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// MinKeyLen is the shortest signing key [New] accepts without
// Config.AllowWeakKeys: 32 bytes, the size of a random HMAC key with a full
// security margin.
const MinKeyLen = 32

// MaxCookieSize is the largest "name=value; attributes" Set-Cookie string seshat
// sends, the same limit Werkzeug warns about (4093 bytes). Browsers silently
// drop larger cookies.
const MaxCookieSize = 4093

// DefaultLifetime is Flask's PERMANENT_SESSION_LIFETIME default: 31 days.
const DefaultLifetime = 31 * 24 * time.Hour

// MaxLifetime is the longest Lifetime [New] accepts: 400 days, the most
// browsers keep a cookie (RFC 6265bis caps Expires and Max-Age there).
const MaxLifetime = 400 * 24 * time.Hour

// CompressThreshold is the smallest session payload (tagged JSON, in bytes)
// a [Manager] zlib-compresses, unless Config.FlaskCompression is set. A
// typical small session (a user id, a CSRF token, a few flags) is 100–300
// bytes, where zlib saves little (the hex and random tokens sessions carry do
// not compress) yet deflating and inflating cost more than signing, encoding
// and verifying together. Every payload that could make a cookie too large
// is far above it, so a session that fits compressed still fits.
const CompressThreshold = 512

// DefaultSalt is the salt Flask signs session cookies with.
const DefaultSalt = "cookie-session"

// SecureMode says when the session cookie carries the Secure attribute.
type SecureMode int

const (
	// SecureAuto (the default) marks the cookie Secure when the request came
	// over TLS (r.TLS != nil). Behind a TLS-terminating proxy set SecureAlways:
	// seshat never guesses the scheme from headers or r.URL.Scheme.
	SecureAuto SecureMode = iota
	// SecureAlways always sends Secure (Flask's SESSION_COOKIE_SECURE=True).
	SecureAlways
	// SecureNever never sends Secure (Flask's default). Only for plain-HTTP
	// development.
	SecureNever
)

// CookieOptions are the attributes of the session cookie. The zero value gives
// safe defaults: name "session", Path "/", HttpOnly, SameSite=Lax, Secure on
// TLS requests.
type CookieOptions struct {
	// Name of the cookie; default "session" (SESSION_COOKIE_NAME). A name with
	// the __Host- prefix (checked case-insensitively) requires Path "/", no
	// Domain and Secure; a __Secure- name requires Secure.
	Name string
	// Domain attribute; default none, so the cookie is host-only
	// (SESSION_COOKIE_DOMAIN).
	Domain string
	// Path attribute; default "/" (SESSION_COOKIE_PATH / APPLICATION_ROOT).
	Path string
	// Secure selects when the Secure attribute is sent; default SecureAuto.
	Secure SecureMode
	// DisableHTTPOnly drops the HttpOnly attribute so scripts can read the
	// cookie (SESSION_COOKIE_HTTPONLY=False). Leave it off: a script-readable
	// session cookie turns any XSS into session theft.
	DisableHTTPOnly bool
	// SameSite attribute. The zero value means Lax, the safe default (Flask
	// sends none). http.SameSiteDefaultMode sends no attribute at all, as Flask
	// does by default; http.SameSiteNoneMode requires Secure: SecureAlways.
	SameSite http.SameSite
	// Partitioned adds the CHIPS Partitioned attribute (Flask 3.1's
	// SESSION_COOKIE_PARTITIONED); it requires Secure: SecureAlways.
	Partitioned bool
	// RequirePrefix makes New refuse a cookie name without a security
	// prefix (ASVS 5.0 3.3.1 and 3.3.3): a host-only cookie must be named
	// __Host-…, and a cookie with a Domain (shared with subdomains) must be
	// named __Secure-…, so a browser never accepts a cookie of that name
	// set without Secure, or by a sibling host for the __Host- name. Off by
	// default: Flask's default name "session" has no prefix.
	RequirePrefix bool
}

// Config configures a [Manager]. Only Keys is required; every other field has
// a documented default that matches Flask's where Flask's is safe.
type Config struct {
	// Keys sign the session cookie. The LAST key signs, every key verifies:
	// list the old keys first, like Flask 3.1's SECRET_KEY_FALLBACKS followed
	// by SECRET_KEY. To rotate, append a new key, deploy, and drop the old one
	// after Lifetime. Keys shorter than MinKeyLen are refused unless
	// AllowWeakKeys is set; empty and all-zero keys are always refused.
	Keys [][]byte
	// AllowWeakKeys accepts keys shorter than MinKeyLen, for sharing sessions
	// with an existing Flask app whose SECRET_KEY is short. New logs a warning
	// once when it accepts such a key.
	AllowWeakKeys bool
	// Salt of the cookie signer; default "cookie-session" (Flask's). Change it
	// only to keep seshat's cookies apart from a Flask app's on purpose.
	Salt string
	// Lifetime is the maximum age of a session cookie (checked on every
	// cookie, permanent or not, as Flask does) and the Expires of a permanent
	// one; default 31 days (PERMANENT_SESSION_LIFETIME), at most MaxLifetime
	// (400 days).
	Lifetime time.Duration
	// NoRefreshEachRequest turns off Flask's SESSION_REFRESH_EACH_REQUEST: by
	// default a permanent session's cookie is re-issued with a fresh timestamp
	// and Expires on every request (sliding expiry).
	NoRefreshEachRequest bool
	// Cookie holds the cookie's name and attributes.
	Cookie CookieOptions
	// Store keeps sessions on the server; nil (the default) keeps them in
	// the signed cookie, Flask's way. With a store the cookie carries only a
	// signed 256-bit session id, and the store sees only a hash of it.
	Store Store
	// IDScheme, with a Store, decides what the cookie carries and the store
	// key of an id; nil means seshat's scheme: a signed 256-bit random id
	// whose hex SHA-256 is the store key.
	IDScheme IDScheme
	// MaxRecordSize caps, with a Store, the bytes of encoded values one
	// request may write (default 1 MiB). A larger write fails with
	// ErrRecordTooLarge through ErrorHandler and nothing reaches the store:
	// a session is no place for bulk data, and engines have limits of their
	// own (Redis 512 MB per value, MariaDB's max_allowed_packet).
	MaxRecordSize int
	// FlaskCompression compresses every cookie payload that zlib makes
	// shorter, as Flask (itsdangerous) does, so that seshat's Set-Cookie is
	// byte-identical to Flask's whenever neither side compresses. By default
	// seshat compresses only a payload of at least CompressThreshold bytes:
	// below that zlib saves a few bytes of a request header and costs more
	// CPU than the rest of the cookie. Flask reads both forms, so either
	// setting interoperates; this changes only what seshat writes.
	FlaskCompression bool
	// EncryptCookie seals cookie-mode sessions with AES-256-GCM instead of
	// only signing them, for sessions that hold what the client must not
	// read. Flask cannot read such a cookie (Flask's is signed, readable
	// JSON): use it for sessions seshat alone serves. The keys are derived
	// from Keys, so rotation works as for signing; the cookie name is bound
	// to the ciphertext, every cookie gets fresh randomness, and the payload
	// is never compressed (no CRIME/BREACH-style length leak). A sealed
	// cookie is 60 characters longer than the signed one. It cannot be set
	// with Store (the cookie then holds only a signed id) or with
	// FlaskCompression.
	EncryptCookie bool
	// MaxDecodedSize caps the decompressed size of a cookie payload, so a
	// small zlib bomb cannot allocate much; default 64 KiB, far above what
	// fits in a 4 KB cookie of ordinary data.
	MaxDecodedSize int
	// ParsedCookies is how many parsed cookie payloads a cookie-mode
	// Manager remembers per generation (default DefaultParsedCookies;
	// negative: none). A request that sends a cookie seen recently gets a
	// copy of the session parsed then, instead of decoding the base64 and
	// tagged JSON again; if it is byte for byte the cookie verified then,
	// the HMAC is not computed again either (only the age is checked). That
	// saves about a third of what a cookie session costs a request
	// (docs/BENCHMARKS.md). Any other cookie is verified in full before anything
	// cached is used for it, so nothing but speed changes. It holds at most
	// 2×ParsedCookies entries, each a session of at most 2 KiB of JSON,
	// parsed, and the cookie it came in: a few hundred bytes for a typical
	// session, about 10 KiB at the limit. Larger payloads, sealed cookies
	// (EncryptCookie) and store mode are not cached.
	//
	// The same number bounds a second cache, of the Set-Cookie headers that
	// re-issued unchanged permanent sessions in the current second: a
	// permanent session re-issued again within that second (by the next
	// request of a page's burst, say) gets the same header without
	// encoding and signing again. Within one second the header is the same
	// bytes either way, since cookie timestamps have one-second resolution.
	// A negative ParsedCookies turns both off.
	ParsedCookies int
	// ErrorHandler writes the response when the session cannot be saved
	// (ErrCookieTooLarge, a store failure). The default answers 500 with a
	// generic text; err never reaches the client.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives the reasons cookies are rejected (at Debug) and save
	// failures (at Error). Default slog.Default(). Nothing seshat logs
	// contains a cookie value, a session id or a key.
	Logger *slog.Logger
	// AbsoluteTimeout ends every session this long after it started,
	// however active it is (OWASP's absolute timeout); 0, the default, means
	// none, as in Flask. A session starts at its first save and again at
	// every Session.Renew (so at login); the time is kept in the session
	// under CreatedKey, inside the signature, and a session that outlived it
	// is replaced by an empty one whose LoadError wraps ErrSessionTimeout.
	// A session without the key (written by a Flask app, or before the
	// option was set) is stamped on its next request.
	AbsoluteTimeout time.Duration
	// IdleTimeout ends a session that no request has used for this long;
	// 0, the default, leaves only Lifetime (which a non-permanent session
	// refreshes only when modified). With it, every request that touches
	// the session re-signs its cookie (cookie mode) or moves its record's
	// expiry (store mode), so the signed timestamp or the store's expiry is
	// the last-seen time. An idle session reads as expired
	// (signing.ErrSignatureExpired in cookie mode, an unknown record in
	// store mode).
	IdleTimeout time.Duration
	// Generation makes logout revoke copies of a session, in cookie mode
	// too: it returns the current generation of a user, a counter the
	// application keeps with the user and increments to revoke every
	// session issued before (at logout, password change, "log out
	// everywhere"). When set, a session whose owner is recorded with
	// Session.SetUserID (package login does it) stores [user id,
	// generation] under GenerationKey, and every request that loads such a
	// session calls Generation once: a different value gives an empty
	// session whose LoadError wraps ErrSessionRevoked; an error fails the
	// request closed (503). Sessions without the key (anonymous ones, or
	// logged in by a Flask app) are not checked.
	Generation func(ctx context.Context, userID string) (uint64, error)
	// RenewAfter, with a Store, gives a session a new id once its id is
	// this old (OWASP's renewal timeout), at the end of the next request
	// that uses it, so a stolen id stops working after at most RenewAfter +
	// RenewGrace even while the session lives on; 0, the default, means
	// never (ids change only at Renew). The retired id stays valid for
	// RenewGrace as a forward: a concurrent request that still carries it
	// continues in the new session and its response carries the new id, so
	// renewal never logs anyone out. When was the id issued is kept in the
	// session under IssuedKey. New refuses it in cookie mode, which has no id.
	RenewAfter time.Duration
	// RenewGrace is how long a retired id leads to its successor; default
	// DefaultRenewGrace (30 seconds).
	RenewGrace time.Duration
	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
}

// settings is Config with the defaults filled in and validated.
type settings struct {
	Config
	name, path string
	sameSite   http.SameSite
	hostPrefix bool
	expires    expiresCache
}

func (c Config) settings() (*settings, error) {
	s := &settings{Config: c}
	if len(c.Keys) == 0 {
		return nil, ErrNoKeys
	}
	weak := false
	for i, k := range c.Keys {
		if len(k) == 0 || allZero(k) {
			return nil, fmt.Errorf("%w: key %d is empty or all zero", ErrWeakKey, i)
		}
		if len(k) < MinKeyLen {
			if !c.AllowWeakKeys {
				return nil, fmt.Errorf("%w: key %d has %d bytes, want at least %d (set AllowWeakKeys only to share a shorter key with an existing Flask app)", ErrWeakKey, i, len(k), MinKeyLen)
			}
			weak = true
		}
	}
	if s.Salt == "" {
		s.Salt = DefaultSalt
	}
	if s.Lifetime <= 0 {
		s.Lifetime = DefaultLifetime
	}
	if s.Lifetime > MaxLifetime {
		return nil, fmt.Errorf("%w: Lifetime %v exceeds %v, the most browsers keep a cookie (RFC 6265bis)", ErrConfig, s.Lifetime, MaxLifetime)
	}
	if s.AbsoluteTimeout < 0 || s.IdleTimeout < 0 || s.RenewAfter < 0 || s.RenewGrace < 0 {
		return nil, fmt.Errorf("%w: negative AbsoluteTimeout, IdleTimeout, RenewAfter or RenewGrace", ErrConfig)
	}
	if s.EncryptCookie && (s.Store != nil || s.FlaskCompression) {
		return nil, fmt.Errorf("%w: EncryptCookie is for cookie mode without FlaskCompression", ErrConfig)
	}
	if s.RenewAfter > 0 && s.Store == nil {
		return nil, fmt.Errorf("%w: RenewAfter needs a Store (a cookie-mode session has no id to renew)", ErrConfig)
	}
	if s.MaxRecordSize <= 0 {
		s.MaxRecordSize = 1 << 20
	}
	if s.MaxDecodedSize <= 0 {
		s.MaxDecodedSize = 64 << 10
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.ErrorHandler == nil {
		s.ErrorHandler = defaultErrorHandler
	}
	s.name = c.Cookie.Name
	if s.name == "" {
		s.name = "session"
	}
	s.path = c.Cookie.Path
	if s.path == "" {
		s.path = "/"
	}
	s.sameSite = c.Cookie.SameSite
	if s.sameSite == 0 {
		s.sameSite = http.SameSiteLaxMode
	}
	if err := s.validateCookie(); err != nil {
		return nil, err
	}
	if weak {
		s.Logger.Warn("seshat: accepting a signing key shorter than 32 bytes (AllowWeakKeys); use a long random key once the Flask app that shares it can change")
	}
	return s, nil
}

func (s *settings) validateCookie() error {
	if !validCookieName(s.name) {
		return fmt.Errorf("%w: cookie name %q is not a valid token", ErrConfig, s.name)
	}
	for _, v := range []struct{ what, val string }{{"Domain", s.Cookie.Domain}, {"Path", s.path}} {
		if strings.ContainsAny(v.val, ";\r\n\x00") || strings.ContainsFunc(v.val, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w: cookie %s contains a control character or ';'", ErrConfig, v.what)
		}
	}
	secureAlways := s.Cookie.Secure == SecureAlways
	lower := strings.ToLower(s.name)
	if strings.HasPrefix(lower, "__host-") {
		s.hostPrefix = true
		if !secureAlways || s.Cookie.Domain != "" || s.path != "/" {
			return fmt.Errorf("%w: a __Host- cookie needs Secure: SecureAlways, Path \"/\" and no Domain", ErrConfig)
		}
	}
	securePrefix := strings.HasPrefix(lower, "__secure-")
	if securePrefix && !secureAlways {
		return fmt.Errorf("%w: a __Secure- cookie needs Secure: SecureAlways", ErrConfig)
	}
	if s.Cookie.RequirePrefix {
		if s.Cookie.Domain != "" && !securePrefix {
			return fmt.Errorf("%w: RequirePrefix: a cookie with a Domain must be named __Secure-…", ErrConfig)
		}
		if s.Cookie.Domain == "" && !s.hostPrefix {
			return fmt.Errorf("%w: RequirePrefix: a host-only cookie must be named __Host-…", ErrConfig)
		}
	}
	// Browsers drop a SameSite=None or Partitioned cookie without Secure,
	// so SecureAuto (which omits it on plain HTTP) is not enough.
	if s.sameSite == http.SameSiteNoneMode && !secureAlways {
		return fmt.Errorf("%w: SameSite=None requires Secure: SecureAlways", ErrConfig)
	}
	if s.Cookie.Partitioned && !secureAlways {
		return fmt.Errorf("%w: Partitioned requires Secure: SecureAlways", ErrConfig)
	}
	return nil
}

func allZero(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	code := http.StatusInternalServerError
	if isUnavailable(err) {
		code = http.StatusServiceUnavailable
	}
	http.Error(w, http.StatusText(code), code)
}
