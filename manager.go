package seshat

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/seshat-go/seshat/signing"
)

// Manager loads and saves sessions. Create one with [New] at start-up and
// wrap your handlers with [Manager.Handler]; it is safe for concurrent use.
type Manager struct {
	settings *settings
	codec    *CookieCodec
	ids      IDScheme      // store mode: session ids in the cookie and store keys
	seal     *sealer       // cookie mode with Config.EncryptCookie
	parsed   *payloadCache // cookie mode: recently parsed payloads (nil: off)
	signed   *signedCache  // cookie mode: Set-Cookie headers built this second (nil: off)
}

// New validates cfg and returns a Manager. It fails with an error wrapping
// ErrNoKeys, ErrWeakKey or ErrConfig.
func New(cfg Config) (*Manager, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	codec, err := NewCookieCodec(s.Keys, s.Salt)
	if err != nil {
		return nil, err
	}
	codec.SetMaxDecodedSize(s.MaxDecodedSize)
	if !s.FlaskCompression {
		codec.SetCompressThreshold(CompressThreshold)
	}
	m := &Manager{settings: s, codec: codec}
	if s.EncryptCookie {
		m.seal = newSealer(s.Keys, s.name, s.MaxDecodedSize)
	} else if s.Store == nil {
		m.parsed = newPayloadCache(s.ParsedCookies)
		m.signed = newSignedCache(s.ParsedCookies)
	}
	if s.Store != nil {
		m.ids = s.IDScheme
		if m.ids == nil {
			if m.ids, err = newDefaultIDs(s.Keys); err != nil {
				return nil, fmt.Errorf("seshat: id signer: %w", err)
			}
		}
	}
	return m, nil
}

// Codec returns the codec that signs this manager's cookies (with
// Config.EncryptCookie, the session cookie is sealed instead and the codec
// does not read it).
func (m *Manager) Codec() *CookieCodec { return m.codec }

// Store returns the configured server-side store, or nil in cookie mode.
// Packages that keep related records (login's remember tokens) use it.
func (m *Manager) Store() Store { return m.settings.Store }

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string { return m.settings.name }

type ctxKey struct{}

// FromContext returns the request's session. It panics, naming the missing
// middleware, when ctx has none; use [Lookup] to get an error instead.
func FromContext(ctx context.Context) *Session {
	s, err := Lookup(ctx)
	if err != nil {
		panic(err.Error())
	}
	return s
}

// Lookup returns the request's session, or ErrNoSession when the handler is
// not wrapped by [Manager.Handler].
func Lookup(ctx context.Context) (*Session, error) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	if !ok {
		return nil, ErrNoSession
	}
	return s, nil
}

// NewContext returns a copy of ctx that carries s, for tests and for code that
// loads a session with [Manager.Load].
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// newSession makes the lazy session of a request.
func (m *Manager) newSession(r *http.Request) *Session {
	s := new(Session)
	m.initSession(s, r)
	return s
}

// initSession sets up the lazy session of a request: it remembers the Cookie
// header lines and reads them only when a handler touches the session.
func (m *Manager) initSession(s *Session, r *http.Request) {
	s.m, s.ctx, s.cookies, s.tls = m, r.Context(), r.Header["Cookie"], r.TLS != nil
}

// Load returns the session of r, read from its cookie, for use outside
// [Manager.Handler] (a websocket handshake, a test). The session is read
// eagerly; a missing or invalid cookie gives an empty session (see
// [Session.LoadError]), not an error.
func (m *Manager) Load(ctx context.Context, r *http.Request) (*Session, error) {
	s := m.newSession(r)
	s.ctx = ctx
	s.mu.Lock()
	s.load()
	err := s.storeErr
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Save writes the Set-Cookie and Vary headers for s into w's header map,
// following Flask's rules, for sessions obtained with [Manager.Load]. Call it
// before the response header is written. After Save the session is committed
// and later changes are reported as lost.
func (m *Manager) Save(ctx context.Context, w http.ResponseWriter, s *Session) error {
	s.mu.Lock()
	// The save holds s.mu while the store runs: a ctx carrying s (as
	// NewContext makes) must not reach a store that logs through package
	// sessionlog, which would wait on that lock forever.
	s.ctx = hideSession{ctx}
	s.mu.Unlock()
	return m.save(w.Header(), s)
}

// loadCookie verifies the request's session cookies. It tries every cookie
// with the session's name (a sibling domain may have planted one) and takes
// the first that verifies. It returns nil values and the first reason when
// none does, and nil, nil when there is no cookie.
func (m *Manager) loadCookie(lines []string) (map[string]any, error) {
	var buf [maxCandidates]string
	cands := cookieValues(lines, m.settings.name, buf[:0])
	var (
		firstErr error
		now      time.Time // read once, at the first cookie: most requests send none or one
	)
	for _, c := range cands {
		if c == "" {
			continue // Flask treats an empty value as no cookie
		}
		if now.IsZero() {
			now = m.settings.Now()
		}
		vals, err := m.decodeCookie(c, now)
		if err == nil {
			return vals, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		m.settings.Logger.Debug("seshat: session cookie rejected, starting a new session", "reason", firstErr.Error())
	}
	return nil, firstErr
}

// decodeCookie verifies and decodes one session cookie value.
func (m *Manager) decodeCookie(c string, now time.Time) (map[string]any, error) {
	if m.seal != nil {
		return m.seal.open(c, m.settings.cookieMaxAge(), now)
	}
	return m.codec.decode(c, m.settings.cookieMaxAge(), now, m.parsed)
}

// looksPermanent reports whether an untouched request's cookie may hold a
// permanent session, which Flask re-issues on every request. It decodes the
// payload without verifying it — no cryptography — so that a request that
// never touches a non-permanent session costs nothing; a cookie that looks
// permanent is then verified in full before anything is re-issued.
func (m *Manager) looksPermanent(lines []string) bool {
	var buf [maxCandidates]string
	if m.seal != nil {
		// A sealed payload cannot be peeked at: open it (a valid cookie is
		// opened again by the load that follows; this path serves only
		// requests that never touched their session).
		now := m.settings.Now()
		for _, c := range cookieValues(lines, m.settings.name, buf[:0]) {
			if vals, err := m.seal.open(c, m.settings.cookieMaxAge(), now); err == nil && truthy(vals[permanentKey]) {
				return true
			}
		}
		return false
	}
	vp, pp := bufPool.Get().(*[]byte), bufPool.Get().(*[]byte)
	defer putBuf(vp)
	defer putBuf(pp)
	for _, c := range cookieValues(lines, m.settings.name, buf[:0]) {
		v := append((*vp)[:0], c...)
		*vp = v[:0]
		body, ok := unverifiedBody(v)
		if !ok {
			continue
		}
		payload, err := signing.AppendDecodeURLSafeBody((*pp)[:0], body, m.settings.MaxDecodedSize)
		*pp = payload[:0]
		if err == nil && bytes.Contains(payload, []byte(`"_permanent":`)) {
			return true
		}
	}
	return false
}

// save applies Flask's SecureCookieSessionInterface.save_session rules and
// writes the headers. It is called once per request, just before the
// response header goes out.
func (m *Manager) save(h http.Header, s *Session) error {
	if m.settings.Store != nil {
		return m.saveStored(h, s)
	}
	st := m.settings
	refresh := !st.NoRefreshEachRequest
	values, loaded, accessed, modified := s.snapshot()
	if !loaded {
		if !refresh || len(s.cookies) == 0 || !m.looksPermanent(s.cookies) {
			return nil // untouched: no crypto, no headers
		}
		s.mu.Lock()
		s.load()
		values = s.values
		s.mu.Unlock()
	}
	if st.limitsOn() {
		s.mu.Lock()
		err := m.prepareSave(s)
		values, modified = s.values, s.modified
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if accessed {
		addVary(h, "Cookie", &s.hdr)
	}
	secure := st.secure(s.tls)
	if len(values) == 0 {
		if modified {
			setCookie(h, st.cookieHeader("", zeroTime, true, secure), &s.hdr)
		}
		return nil
	}
	permanent := truthy(values[permanentKey])
	if !modified && !(permanent && refresh) {
		return nil
	}
	now := st.Now()
	expires := zeroTime
	if permanent {
		expires = st.expiresAt(values, now)
	}
	var (
		hdr string
		err error
	)
	if m.seal != nil {
		hdr, err = m.sealedHeader(values, now, expires, secure)
	} else {
		hdr, err = m.signedHeader(values, now, expires, secure, !modified)
	}
	if err != nil {
		return err
	}
	setCookie(h, hdr, &s.hdr)
	return nil
}

// sealedHeader builds the Set-Cookie value of a sealed (EncryptCookie)
// session. The whole value is built in one pooled buffer and copied once
// into the header string.
func (m *Manager) sealedHeader(values map[string]any, now, expires time.Time, secure bool) (string, error) {
	st := m.settings
	bp := bufPool.Get().(*[]byte)
	defer putBuf(bp)
	b, err := m.seal.appendSeal(st.appendCookieName((*bp)[:0]), values, now)
	if err != nil {
		*bp = b[:0]
		return "", err
	}
	b = st.appendCookieAttrs(b, expires, false, secure)
	*bp = b[:0]
	if len(b) > MaxCookieSize {
		return "", &CookieTooLargeError{Size: len(b), Limit: MaxCookieSize}
	}
	return string(b), nil
}

// signedHeader builds the Set-Cookie value of a signed session. A refresh
// (an unchanged permanent session re-issued) takes the header built for the
// same JSON earlier in the same second (signedCache), if there is one.
//
// Only refreshes use the cache: they are what repeats in real traffic (the
// requests of one page's burst each re-issue the same session). A changed
// session repeats only when many clients save the same session many times a
// second, as a benchmark's do; caching those would speed up the benchmark,
// not an application.
func (m *Manager) signedHeader(values map[string]any, now, expires time.Time, secure, refresh bool) (string, error) {
	st := m.settings
	jp := bufPool.Get().(*[]byte)
	defer putBuf(jp)
	payload, err := appendJSON((*jp)[:0], values)
	*jp = payload[:0]
	if err != nil {
		return "", err
	}
	var (
		sec       int64
		in        headerInputs
		cacheable bool
	)
	if refresh {
		sec, in, cacheable = m.codec.signedKey(now, expires, secure)
	}
	if cacheable {
		if hdr, ok := m.signed.lookup(payload, sec, in); ok {
			return hdr, nil
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer putBuf(bp)
	b := m.codec.appendPayload(st.appendCookieName((*bp)[:0]), payload, now, signing.CompressAuto)
	b = st.appendCookieAttrs(b, expires, false, secure)
	*bp = b[:0]
	if len(b) > MaxCookieSize {
		// The fast encoder compresses a little worse than Python's zlib;
		// before refusing, try the best compression Go has, so that what
		// fits in a Flask cookie fits in ours.
		best := m.codec.appendPayload(st.appendCookieName(nil), payload, now, signing.CompressBest)
		if best = st.appendCookieAttrs(best, expires, false, secure); len(best) < len(b) {
			b = best
		}
	}
	if len(b) > MaxCookieSize {
		return "", &CookieTooLargeError{Size: len(b), Limit: MaxCookieSize}
	}
	hdr := string(b)
	if cacheable {
		m.signed.put(payload, sec, signedHeader{in, hdr})
	}
	return hdr, nil
}
