package csrf

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
)

// Flask-WTF's defaults.
const (
	// DefaultFieldName is the form field (WTF_CSRF_FIELD_NAME) and the
	// session key that hold the token and the secret.
	DefaultFieldName = "csrf_token"
	// DefaultSalt is the salt of Flask-WTF's token serializer.
	DefaultSalt = "wtf-csrf-token"
	// DefaultTimeLimit is WTF_CSRF_TIME_LIMIT: a token is valid for an hour.
	DefaultTimeLimit = 3600 * time.Second
)

// maxMultipartMemory bounds the memory a multipart form may use while the
// protector looks for the token (net/http's default for FormValue).
const maxMultipartMemory = 32 << 20

// Options configure a [Protector]. The zero value is Flask-WTF's defaults
// with strict referrer checking on HTTPS, plus the origin check.
type Options struct {
	// TimeLimit is how long a token is valid (WTF_CSRF_TIME_LIMIT); 0 means
	// DefaultTimeLimit (one hour); a negative value disables the age check
	// (Flask-WTF's None), which leaves a leaked token valid for as long as
	// the session lives.
	TimeLimit time.Duration
	// FieldName is the form field and the session key (WTF_CSRF_FIELD_NAME);
	// default "csrf_token". A form field whose name ends with it (a prefixed
	// form) is read too, as Flask-WTF does.
	FieldName string
	// Headers are read, in order, when no form field holds a token; default
	// X-CSRFToken then X-CSRF-Token (Flask-WTF's WTF_CSRF_HEADERS).
	Headers []string
	// Salt of the token serializer; default "wtf-csrf-token". Flask-WTF has
	// no setting for it: change it only to keep tokens apart on purpose.
	Salt string
	// TrustedOrigins are origins, "scheme://host[:port]", from which
	// cross-origin requests are allowed (for instance a separate front-end).
	// They are compared as whole strings, scheme included: trusting
	// https://app.example does not admit http://app.example. They exempt a
	// request from the origin check only, never from the token check.
	TrustedOrigins []string
	// ExemptPaths are request paths (r.URL.Path) checked neither for origin
	// nor for a token, like Flask-WTF's csrf.exempt views: webhooks called
	// by other servers. Matching is exact: "/webhook" does not exempt
	// "/webhook/", "/webhookX" or "/webhook/../admin".
	ExemptPaths []string
	// NoStrictReferrer turns off Flask-WTF's WTF_CSRF_SSL_STRICT: by default
	// an HTTPS request must carry a Referer from https://<its Host>/.
	NoStrictReferrer bool
	// TrustForwardedProto makes "X-Forwarded-Proto: https" (its first
	// value) mark a request as HTTPS, for an application behind a
	// TLS-terminating proxy that sets the header and strips any a client
	// sent. Otherwise a request is HTTPS only when it arrived over TLS
	// (r.TLS); r.URL.Scheme is never used.
	TrustForwardedProto bool
	// ErrorHandler answers a refused request; err is, or wraps, one of the
	// package's sentinel errors. The default answers 403 Forbidden with
	// the reason (never the token). An error that is not a CSRF reason (no
	// session in the context) gets 500.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Rand is the source of the 64 random bytes behind each session secret;
	// nil means crypto/rand. Tests set it.
	Rand io.Reader
	// Now is the clock for minting and checking tokens; nil means time.Now.
	Now func() time.Time
	// MaskTokens makes Token return the token under a fresh random mask on
	// every request ("~" + base64url(pad || pad XOR token)), so a page
	// compressed over TLS does not leak it to a BREACH-style attack. Check
	// accepts masked and plain tokens alike, so forms a Flask app renders
	// for the shared session still pass; leave it off only when Flask-WTF
	// must check tokens that Go renders (it cannot unmask them).
	MaskTokens bool
	// AllowWeakKeys accepts keys shorter than seshat.MinKeyLen (32 bytes),
	// to share a short Flask SECRET_KEY with Flask-WTF. Empty and all-zero
	// keys are always refused.
	AllowWeakKeys bool
}

// Protector mints and checks Flask-WTF CSRF tokens. Create one with [New]; it
// is safe for concurrent use.
type Protector struct {
	ser       *signing.URLSafeTimedSerializer
	signer    *signing.TimestampSigner
	origin    *http.CrossOriginProtection
	field     string
	headers   []string
	timeLimit time.Duration
	exempt    map[string]bool
	strict    bool
	fwdProto  bool
	masked    bool
	onError   func(w http.ResponseWriter, r *http.Request, err error)
	rand      io.Reader
	now       func() time.Time
}

// New returns a Protector whose tokens are signed with keys: the LAST key
// signs, every key verifies (oldest first, as seshat.Config.Keys). To share
// tokens with Flask-WTF, use its WTF_CSRF_SECRET_KEY, or SECRET_KEY when that
// is unset. It fails on no keys, an invalid trusted origin, or a weak key
// (an error wrapping seshat.ErrWeakKey: empty, all zero, or shorter than
// seshat.MinKeyLen without Options.AllowWeakKeys), as seshat.New does.
func New(keys [][]byte, opts Options) (*Protector, error) {
	if len(keys) == 0 {
		return nil, errors.New("csrf: no keys")
	}
	for i, k := range keys {
		if len(bytes.Trim(k, "\x00")) == 0 {
			return nil, fmt.Errorf("csrf: %w: key %d is empty or all zero", seshat.ErrWeakKey, i)
		}
		if len(k) < seshat.MinKeyLen && !opts.AllowWeakKeys {
			return nil, fmt.Errorf("csrf: %w: key %d has %d bytes, want at least %d (set AllowWeakKeys only to share a shorter Flask SECRET_KEY)", seshat.ErrWeakKey, i, len(k), seshat.MinKeyLen)
		}
	}
	p := &Protector{
		field:     opts.FieldName,
		headers:   opts.Headers,
		timeLimit: opts.TimeLimit,
		exempt:    make(map[string]bool, len(opts.ExemptPaths)),
		strict:    !opts.NoStrictReferrer,
		fwdProto:  opts.TrustForwardedProto,
		masked:    opts.MaskTokens,
		onError:   opts.ErrorHandler,
		rand:      opts.Rand,
		now:       opts.Now,
		origin:    http.NewCrossOriginProtection(),
	}
	if p.field == "" {
		p.field = DefaultFieldName
	}
	if p.headers == nil {
		p.headers = []string{"X-CSRFToken", "X-CSRF-Token"}
	}
	p.headers = slices.Clone(p.headers)
	if p.timeLimit == 0 {
		p.timeLimit = DefaultTimeLimit
	}
	if p.onError == nil {
		p.onError = defaultErrorHandler
	}
	if p.rand == nil {
		p.rand = rand.Reader
	}
	if p.now == nil {
		p.now = time.Now
	}
	salt := opts.Salt
	if salt == "" {
		salt = DefaultSalt
	}
	so := signing.Options{Salt: []byte(salt), Now: p.now}
	var err error
	if p.ser, err = signing.NewURLSafeTimedSerializer(keys, signing.SerializerOptions{Options: so}); err != nil {
		return nil, fmt.Errorf("csrf: %w", err)
	}
	if p.signer, err = signing.NewTimestampSigner(keys, so); err != nil {
		return nil, fmt.Errorf("csrf: %w", err)
	}
	for _, o := range opts.TrustedOrigins {
		if err := p.origin.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("csrf: trusted origin: %w", err)
		}
	}
	for _, path := range opts.ExemptPaths {
		p.exempt[path] = true
	}
	return p, nil
}

// checked reports whether method needs a token: every method but the safe
// ones. Flask-WTF checks POST, PUT, PATCH and DELETE; other unsafe methods
// are checked here too.
func checked(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

type ctxKey struct{}

// reqState is one request's protector and token cache (Flask-WTF's g).
type reqState struct {
	p     *Protector
	mu    sync.Mutex
	token string
}

// Protect returns h wrapped in the CSRF check. It must run inside the session
// middleware (seshat.Manager.Handler), which holds the session secret:
//
//	sm.Handler(p.Protect(mux))
//
// Requests with a safe method (GET, HEAD, OPTIONS, TRACE) and requests to an
// exempt path pass. Any other request is refused through
// Options.ErrorHandler unless [Protector.Check] accepts it. Checked requests
// get "Vary: Origin, Sec-Fetch-Site", accepted or not, since the answer
// depends on those headers. In every request, [Token] works.
func (p *Protector) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &reqState{p: p}))
		if checked(r.Method) && !p.exempt[r.URL.Path] {
			w.Header().Add("Vary", "Origin, Sec-Fetch-Site")
			if err := p.Check(r); err != nil {
				p.onError(w, r, err)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Check applies every check Protect applies to r, whatever its method or
// path, and returns nil or the reason for refusing it, in this order: the
// origin (ErrBadOrigin), then Flask-WTF's checks in Flask-WTF's order
// (ErrTokenMissing, ErrSessionTokenMissing, ErrTokenExpired,
// ErrTokenInvalid, ErrTokensDoNotMatch, then on HTTPS ErrReferrerMissing and
// ErrReferrerMismatch). It parses r's form body (url-encoded or multipart)
// to find the token; the handler can still read r.PostForm. It needs the
// request's session (seshat.Lookup) and returns seshat.ErrNoSession without
// one.
func (p *Protector) Check(r *http.Request) error {
	secure := p.secure(r)
	if err := p.origin.Check(r); err != nil {
		return &originError{cause: err}
	}
	if secure && r.Header.Get("Sec-Fetch-Site") == "" {
		// CrossOriginProtection compares an Origin with the Host only; over
		// TLS an http:// page of the same host is still another origin.
		if o := r.Header.Get("Origin"); o != "" && strings.HasPrefix(strings.ToLower(o), "http://") && !p.trusted(o) {
			return &originError{}
		}
	}
	token := p.tokenFrom(r)
	if token == "" {
		return ErrTokenMissing // before the session is touched, as Flask-WTF
	}
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return err
	}
	if err := p.validate(unmask(token), s); err != nil {
		return err
	}
	if secure && p.strict {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return ErrReferrerMissing
		}
		if !sameOrigin(ref, "https://"+r.Host+"/") {
			return ErrReferrerMismatch
		}
	}
	return nil
}

// trusted reports whether origin is one of Options.TrustedOrigins, asking
// CrossOriginProtection on a cross-site probe request.
func (p *Protector) trusted(origin string) bool {
	probe := &http.Request{Method: http.MethodPost, Header: http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {origin}}, URL: &url.URL{Path: "/"}}
	return p.origin.Check(probe) == nil
}

// secure reports whether r came over HTTPS: r.TLS, or with
// TrustForwardedProto the proxy's X-Forwarded-Proto.
func (p *Protector) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if p.fwdProto {
		v, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		return strings.EqualFold(strings.TrimSpace(v), "https")
	}
	return false
}

// tokenFrom finds the token as Flask-WTF does: the form field, then any form
// field whose name ends with it (in sorted order of names, where Python
// keeps the form's order), then the headers. Never the query string or a
// cookie.
func (p *Protector) tokenFrom(r *http.Request) string {
	var form url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if r.ParseMultipartForm(maxMultipartMemory) == nil && r.MultipartForm != nil {
			form = r.MultipartForm.Value
		}
	} else if r.ParseForm() == nil {
		form = r.PostForm
	}
	if t := form.Get(p.field); t != "" {
		return t
	}
	names := make([]string, 0, len(form))
	for k := range form {
		if strings.HasSuffix(k, p.field) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if t := form.Get(k); t != "" {
			return t
		}
	}
	for _, h := range p.headers {
		if t := r.Header.Get(h); t != "" {
			return t
		}
	}
	return ""
}

// validate is Flask-WTF's validate_csrf.
func (p *Protector) validate(token string, s *seshat.Session) error {
	if token == "" {
		return ErrTokenMissing
	}
	secret, ok := s.Get(p.field)
	if !ok {
		return ErrSessionTokenMissing
	}
	var raw any
	var err error
	if p.timeLimit < 0 {
		err = p.ser.Loads(token, &raw)
	} else {
		_, err = p.ser.LoadsMaxAge(token, &raw, p.timeLimit)
	}
	if err != nil {
		if errors.Is(err, signing.ErrSignatureExpired) {
			return ErrTokenExpired
		}
		return ErrTokenInvalid
	}
	a, ok1 := secret.(string)
	b, ok2 := raw.(string)
	if !ok1 || !ok2 || subtle.ConstantTimeCompare([]byte(a), []byte(b)) != 1 {
		return ErrTokensDoNotMatch
	}
	return nil
}

// sameOrigin is Flask-WTF's same_origin: scheme, host name and port of two
// URLs compare equal (Python's urlparse lower-cases scheme and host; a port
// is compared as a number, an absent one as absent).
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	pa, ok1 := portOf(ua)
	pb, ok2 := portOf(ub)
	return ok1 && ok2 && pa == pb &&
		strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(ua.Hostname(), ub.Hostname())
}

func portOf(u *url.URL) (int, bool) {
	s := u.Port()
	if s == "" {
		return -1, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 65535
}

// Token returns the token for forms and for the X-CSRFToken header of the
// request r, which must have gone through [Protector.Protect]: Flask-WTF's
// generate_csrf. The first call in a request stores a new secret in the
// session when it has none (40 hex digits: SHA-1 of 64 random bytes); every
// call in the same request returns the same token. It returns
// ErrNoProtector without Protect, seshat.ErrNoSession without a session,
// and the session's error when the secret cannot be stored (for instance
// after the response header was written).
func Token(r *http.Request) (string, error) {
	st, ok := r.Context().Value(ctxKey{}).(*reqState)
	if !ok {
		return "", ErrNoProtector
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.token != "" {
		return st.token, nil
	}
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return "", err
	}
	t, err := st.p.token(s)
	if err == nil && st.p.masked {
		t, err = st.p.mask(t)
	}
	if err != nil {
		return "", err
	}
	st.token = t
	return t, nil
}

// token mints a token for s's secret, storing a new secret first when s has
// none (or one that is not a string).
func (p *Protector) token(s *seshat.Session) (string, error) {
	v, _ := s.Get(p.field)
	raw, ok := v.(string)
	if !ok {
		var b [64]byte
		if _, err := io.ReadFull(p.rand, b[:]); err != nil {
			return "", fmt.Errorf("csrf: random source: %w", err)
		}
		sum := sha1.Sum(b[:])
		raw = hex.EncodeToString(sum[:])
		if err := s.Set(p.field, raw); err != nil {
			return "", err
		}
	}
	return p.Mint(raw, p.now())
}

// Mint returns the token Flask-WTF makes for the session secret raw at time
// at: URLSafeTimedSerializer(key, salt).dumps(raw), byte for byte.
func (p *Protector) Mint(raw string, at time.Time) (string, error) {
	payload, err := signing.JSON.Marshal(raw)
	if err != nil {
		return "", fmt.Errorf("csrf: %w", err)
	}
	body := signing.AppendURLSafeBody(nil, payload, signing.CompressAuto)
	return string(p.signer.SignAt(body, at)), nil
}

// Rotate drops the session's CSRF secret and the request's cached token, so
// the next [Token] mints a new secret and tokens minted before stop
// matching: call it on login and on every privilege change (login CSRF).
func Rotate(r *http.Request) error {
	s, err := seshat.Lookup(r.Context())
	if err != nil {
		return err
	}
	field := DefaultFieldName
	if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok {
		st.mu.Lock()
		st.token = ""
		field = st.p.field
		st.mu.Unlock()
	}
	s.Delete(field)
	return nil
}

// defaultErrorHandler answers 403 with the reason (500 for errors that are
// not a CSRF reason, which are configuration mistakes).
func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	var rs reason
	if errors.As(err, &rs) {
		http.Error(w, "Forbidden: "+rs.Error(), http.StatusForbidden)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
