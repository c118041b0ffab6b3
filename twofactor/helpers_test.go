package twofactor_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/twofactor"
)

// totpAt computes the 6-digit RFC 6238 code of secret (base32) at t with
// HMAC-SHA1 and 30-second steps, independently of pquerna/otp, so the
// tests do not check the library against itself.
func totpAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	return hotp(key, uint64(at.Unix()/30), 6)
}

// hotp is RFC 4226's HOTP with dynamic truncation.
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// TestHOTPHelperRFC6238 pins the test's own TOTP against RFC 6238
// Appendix B (SHA-1 rows; 8 digits there, the last 6 are the 6-digit code).
func TestHOTPHelperRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}} {
		if got := hotp(key, uint64(c.unix/30), 8); got != c.want {
			t.Errorf("T=%d: got %s, want %s", c.unix, got, c.want)
		}
		if got := hotp(key, uint64(c.unix/30), 6); got != c.want[2:] {
			t.Errorf("T=%d 6 digits: got %s, want %s", c.unix, got, c.want[2:])
		}
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Mid-step, so that ±30 s stays within one step either side.
	return &clock{t: time.Unix(1_800_000_015, 0)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type user string

func (u user) ID() string { return string(u) }

var users = map[string]bool{"alice": true, "bob": true}

func loadUser(_ context.Context, id string) (login.User, error) {
	if users[id] {
		return user(id), nil
	}
	return nil, nil
}

// fixture is a twofactor Manager on a MemoryStore with a test clock.
type fixture struct {
	tf    *twofactor.Manager
	store *twofactor.MemoryStore
	clock *clock
	lm    *login.Manager
}

func newFixture(t *testing.T, loginURL string) *fixture {
	t.Helper()
	c := newClock()
	lm, err := login.New(login.Config{
		LoadUser: loadUser,
		LoginURL: loginURL,
		Tokens:   login.NewMemoryTokens(c.Now),
		Now:      c.Now,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := twofactor.NewMemoryStore()
	tf, err := twofactor.New(twofactor.Config{
		Issuer:   "Seshat Test",
		Store:    st,
		Login:    lm,
		LoadUser: loadUser,
		Now:      c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{tf: tf, store: st, clock: c, lm: lm}
}

// enrol enrols id and returns its secret and recovery codes. The
// confirmation code is from the previous step, so codes of the current
// step are still unused.
func (f *fixture) enrol(t *testing.T, id string) (string, []string) {
	t.Helper()
	e, err := f.tf.Enroll(context.Background(), id, id+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.tf.ConfirmEnrolment(context.Background(), id, totpAt(t, e.Secret, f.clock.Now().Add(-30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

// code is the current TOTP code of secret.
func (f *fixture) code(t *testing.T, secret string) string {
	return totpAt(t, secret, f.clock.Now())
}

// server is a small app: seshat + login + twofactor.
type server struct {
	*fixture
	srv      *httptest.Server
	sessions *memstore.Store // nil in cookie mode
	lastErr  error
	mu       sync.Mutex
}

const sessionKey = "a test session key of more than 32 bytes"

func newServer(t *testing.T, storeMode bool, loginURL string) *server {
	t.Helper()
	s := &server{fixture: newFixture(t, loginURL)}
	cfg := seshat.Config{Keys: [][]byte{[]byte(sessionKey)}, Logger: slog.New(slog.DiscardHandler)}
	if storeMode {
		s.sessions = memstore.New(memstore.Options{})
		t.Cleanup(func() { s.sessions.Close() })
		cfg.Store = s.sessions
	}
	sm, err := seshat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// The password check would be here.
		pending, err := s.tf.Begin(w, r, user(r.FormValue("user")), r.FormValue("remember") == "on")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "pending=%v", pending)
	})
	mux.HandleFunc("POST /2fa", func(w http.ResponseWriter, r *http.Request) {
		m, err := s.tf.Complete(w, r, r.FormValue("code"))
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "ok %s", m)
	})
	mux.HandleFunc("POST /cancel", func(w http.ResponseWriter, r *http.Request) { s.tf.Cancel(r) })
	mux.HandleFunc("POST /csrf-seed", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("csrf_token", "seed")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { s.lm.LogoutUser(w, r) })
	mux.HandleFunc("POST /login-direct", func(w http.ResponseWriter, r *http.Request) {
		s.lm.LoginUser(w, r, user(r.FormValue("user")), login.LoginOptions{})
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.tf.LastAuth(r)
		fmt.Fprintf(w, "%v %s %d %q", ok, a.UserID, a.Time.Unix(), a.Second)
	})
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(seshat.FromContext(r.Context()).Values())
	})
	mux.Handle("GET /account", s.lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "account of %s", s.lm.CurrentUser(r).ID())
	})))
	s.srv = httptest.NewServer(sm.Handler(s.lm.Handler(mux)))
	t.Cleanup(s.srv.Close)
	return s
}

// client returns a browser: a cookie jar that does not follow redirects.
func (s *server) client(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (s *server) do(t *testing.T, c *http.Client, method, path string, form url.Values) resp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, strings.TrimSpace(string(b)), res.Header}
}

func (s *server) login(t *testing.T, c *http.Client, id string, remember bool) resp {
	t.Helper()
	f := url.Values{"user": {id}}
	if remember {
		f.Set("remember", "on")
	}
	return s.do(t, c, "POST", "/login", f)
}

func (s *server) submit(t *testing.T, c *http.Client, code string) (resp, error) {
	t.Helper()
	r := s.do(t, c, "POST", "/2fa", url.Values{"code": {code}})
	s.mu.Lock()
	defer s.mu.Unlock()
	return r, s.lastErr
}

// session returns the session's values as the server sees them.
func (s *server) session(t *testing.T, c *http.Client) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s.do(t, c, "GET", "/session", nil).body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// tfKeys returns the session's keys starting with "tf_".
func tfKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, "tf_") {
			out = append(out, k)
		}
	}
	return out
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("error %v, want %v", got, want)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
