package csrf_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/internal/flaskvectors"
)

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrTokenMissing", csrf.ErrTokenMissing},
	{"ErrSessionTokenMissing", csrf.ErrSessionTokenMissing},
	{"ErrTokenExpired", csrf.ErrTokenExpired},
	{"ErrTokenInvalid", csrf.ErrTokenInvalid},
	{"ErrTokensDoNotMatch", csrf.ErrTokensDoNotMatch},
	{"ErrReferrerMissing", csrf.ErrReferrerMissing},
	{"ErrReferrerMismatch", csrf.ErrReferrerMismatch},
	{"ErrBadOrigin", csrf.ErrBadOrigin},
}

// reasonHandler answers 403 and names, in X-Reason, the sentinels err
// matches with errors.Is.
func reasonHandler(w http.ResponseWriter, _ *http.Request, err error) {
	var names []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			names = append(names, s.name)
		}
	}
	w.Header().Set("X-Reason", strings.Join(names, ","))
	http.Error(w, "Forbidden: "+err.Error(), http.StatusForbidden)
}

// app is a seshat application behind a Protector, on a real server.
type app struct {
	srv    *httptest.Server
	client *http.Client
	p      *csrf.Protector
	now    *time.Time
}

const key = "csrf-test-secret-key-0123456789abcdef"

func newApp(t *testing.T, tls bool, opts csrf.Options) *app {
	t.Helper()
	a := &app{now: new(time.Time)}
	*a.now = time.Unix(1730000000, 0)
	clock := func() time.Time { return *a.now }
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte(key)}, Now: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = clock
	if opts.ErrorHandler == nil {
		opts.ErrorHandler = reasonHandler
	}
	a.p, err = csrf.New([][]byte{[]byte(key)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		t1, err1 := csrf.Token(r)
		t2, err2 := csrf.Token(r)
		if err1 != nil || err2 != nil || t1 != t2 {
			http.Error(w, "token: "+errors.Join(err1, err2).Error(), 500)
			return
		}
		io.WriteString(w, t1)
	})
	mux.HandleFunc("/rotate", func(w http.ResponseWriter, r *http.Request) {
		old, _ := csrf.Token(r)
		if err := csrf.Rotate(r); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		nt, _ := csrf.Token(r)
		if nt == old {
			http.Error(w, "same token after Rotate", 500)
			return
		}
		io.WriteString(w, nt)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	h := sm.Handler(a.p.Protect(mux))
	if tls {
		a.srv = httptest.NewTLSServer(h)
	} else {
		a.srv = httptest.NewServer(h)
	}
	t.Cleanup(a.srv.Close)
	a.client = a.srv.Client()
	a.client.Jar, _ = cookiejar.New(nil)
	a.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return a
}

type call struct {
	method  string
	path    string
	host    string
	form    url.Values
	headers map[string]string
}

type answer struct {
	status int
	reason string
	body   string
	vary   []string
}

func (a *app) do(t *testing.T, c call) answer {
	t.Helper()
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	if c.method == "" {
		c.method = http.MethodPost
	}
	req, err := http.NewRequest(c.method, a.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.host != "" {
		req.Host = c.host
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("X-Reason"), string(b), resp.Header.Values("Vary")}
}

// token renders the form (GET /form), which stores the secret in the session.
func (a *app) token(t *testing.T, host string) string {
	t.Helper()
	r := a.do(t, call{method: http.MethodGet, path: "/form", host: host})
	if r.status != 200 {
		t.Fatalf("GET /form: %d %s", r.status, r.body)
	}
	return r.body
}

func expect(t *testing.T, got answer, reason string) {
	t.Helper()
	if reason == "" {
		if got.status != 200 {
			t.Fatalf("refused: %d %s (%s)", got.status, got.body, got.reason)
		}
		return
	}
	if got.status != http.StatusForbidden || got.reason != reason {
		t.Fatalf("got %d %q (%s), want 403 %s", got.status, got.reason, got.body, reason)
	}
}

func TestRequestVectors(t *testing.T) {
	f, err := flaskvectors.Load("flask_wtf_csrf")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range f.Vectors {
		if v.Kind != "csrf.request" {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				SecretKey string            `json:"secret_key"`
				Cookie    string            `json:"session_cookie"`
				Scheme    string            `json:"scheme"`
				Form      map[string]string `json:"form"`
				Headers   map[string]string `json:"headers"`
				Now       int64             `json:"now"`
			}
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			var reason string
			v.Field("reason", &reason)
			now := time.Unix(in.Now, 0)
			sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte(in.SecretKey)}, AllowWeakKeys: true,
				Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			p, err := csrf.New([][]byte{[]byte(in.SecretKey)}, csrf.Options{Now: func() time.Time { return now }, AllowWeakKeys: true})
			if err != nil {
				t.Fatal(err)
			}
			h := sm.Handler(p.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "accepted") })))
			var srv *httptest.Server
			if in.Scheme == "https" {
				srv = httptest.NewTLSServer(h)
			} else {
				srv = httptest.NewServer(h)
			}
			defer srv.Close()
			form := url.Values{}
			for k, v := range in.Form {
				form.Set(k, v)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(form.Encode()))
			req.Host = "localhost" // Flask's test client
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "session="+in.Cookie)
			for k, v := range in.Headers {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			got := strings.TrimSpace(string(body))
			if reason == "accepted" {
				if resp.StatusCode != 200 || got != "accepted" {
					t.Fatalf("got %d %q, want accepted", resp.StatusCode, got)
				}
				return
			}
			if resp.StatusCode != http.StatusForbidden || got != "Forbidden: "+reason {
				t.Fatalf("got %d %q, want 403 %q", resp.StatusCode, got, reason)
			}
		})
	}
	if n != 9 {
		t.Errorf("ran %d request vectors, want 9", n)
	}
}

func TestTokenFlow(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	// CS-01: GET needs no token; POST does.
	expect(t, a.do(t, call{method: http.MethodGet, path: "/x"}), "")
	expect(t, a.do(t, call{path: "/x"}), "ErrTokenMissing")
	// CS-10: a pre-session form (login) is protected too.
	expect(t, a.do(t, call{path: "/login", form: url.Values{"csrf_token": {"abc"}}}), "ErrSessionTokenMissing")
	tok := a.token(t, "")
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "PROPFIND"} {
		expect(t, a.do(t, call{method: m, path: "/x"}), "ErrTokenMissing")
		expect(t, a.do(t, call{method: m, path: "/x", headers: map[string]string{"X-CSRFToken": tok}}), "")
	}
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {tok}}}), "")
	expect(t, a.do(t, call{path: "/x", form: url.Values{"login-csrf_token": {tok}}}), "")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRF-Token": tok}}), "")
	// A second form render in another second gives another token; both
	// are valid (same secret).
	*a.now = a.now.Add(time.Second)
	tok2 := a.token(t, "")
	if tok2 == tok {
		t.Error("same token a second later")
	}
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {tok}}}), "")
	// Tampered, expired.
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {tamper(tok)}}}), "ErrTokenInvalid")
	*a.now = a.now.Add(3600 * time.Second)
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {tok}}}), "ErrTokenExpired")
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {tok2}}}), "")
}

// CS-04: the token is read from the form body or a header only.
func TestTokenOnlyFromBodyOrHeader(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tok := a.token(t, "")
	expect(t, a.do(t, call{path: "/x?csrf_token=" + url.QueryEscape(tok)}), "ErrTokenMissing")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"Cookie": "csrf_token=" + tok}}), "ErrTokenMissing")
}

func TestMultipart(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tok := a.token(t, "")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("name", "x")
	mw.WriteField("csrf_token", tok)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/x", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("multipart: %d", resp.StatusCode)
	}
}

// CS-02: a token is bound to its session; a token planted in a cookie or
// minted for another session does not pass.
func TestTokenBoundToSession(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tokA := a.token(t, "")
	// A second client (another session) on the same server.
	other := a.srv.Client()
	other.Jar, _ = cookiejar.New(nil)
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/form", nil)
	resp, err := other.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodPost, a.srv.URL+"/x", nil)
	req.Header.Set("X-CSRFToken", tokA)
	resp, err = other.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Reason") != "ErrTokensDoNotMatch" {
		t.Fatalf("session B with A's token: %d %s", resp.StatusCode, body)
	}
	// The deny answer never reveals a token.
	if bytes.Contains(body, []byte(tokA)) || bytes.Contains(body, []byte(strings.Split(tokA, ".")[0])) {
		t.Error("the refusal reveals the token")
	}
}

func TestRotate(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	old := a.token(t, "")
	r := a.do(t, call{method: http.MethodGet, path: "/rotate"})
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": old}}), "ErrTokensDoNotMatch")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": r.body}}), "")
}

// CS-09: exemptions are exact paths.
func TestExemptPaths(t *testing.T) {
	a := newApp(t, false, csrf.Options{ExemptPaths: []string{"/webhook"}})
	expect(t, a.do(t, call{path: "/webhook"}), "")
	expect(t, a.do(t, call{path: "/webhook", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://hooks.example"}}), "")
	for _, p := range []string{"/webhookX", "/webhook/", "/webhook/../admin", "/webhook/%2E%2E/admin", "/Webhook", "/webhook;x"} {
		expect(t, a.do(t, call{path: p}), "ErrTokenMissing")
	}
}

// CS-11: a checked request's answer varies with Origin and Sec-Fetch-Site.
func TestVary(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tok := a.token(t, "")
	has := func(v []string) bool {
		seen := map[string]bool{}
		for _, l := range v {
			for _, f := range strings.Split(l, ",") {
				seen[strings.TrimSpace(f)] = true
			}
		}
		return seen["Origin"] && seen["Sec-Fetch-Site"]
	}
	if r := a.do(t, call{path: "/x"}); r.status != 403 || !has(r.vary) {
		t.Errorf("403: Vary %q", r.vary)
	}
	if r := a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": tok}}); r.status != 200 || !has(r.vary) {
		t.Errorf("200: Vary %q", r.vary)
	}
	if r := a.do(t, call{method: http.MethodGet, path: "/x"}); has(r.vary) {
		t.Errorf("GET: Vary %q", r.vary)
	}
}

func TestTokenWithoutProtect(t *testing.T) {
	if _, err := csrf.Token(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, csrf.ErrNoProtector) {
		t.Errorf("err = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		keys [][]byte
		o    csrf.Options
	}{
		{nil, csrf.Options{}},
		{[][]byte{{}}, csrf.Options{}},
		{[][]byte{[]byte("k")}, csrf.Options{TrustedOrigins: []string{"example.com"}}},
		{[][]byte{[]byte("k")}, csrf.Options{TrustedOrigins: []string{"https://example.com/path"}}},
	} {
		if _, err := csrf.New(c.keys, c.o); err == nil {
			t.Errorf("New(%q, %+v): no error", c.keys, c.o.TrustedOrigins)
		}
	}
}

// SC-04: keys are held to seshat.New's rule: empty and all-zero keys are
// always refused, keys under 32 bytes unless AllowWeakKeys says a short
// Flask SECRET_KEY is shared; the error names no key.
func TestWeakKeysRefused(t *testing.T) {
	for _, c := range []struct {
		keys [][]byte
		weak bool
		ok   bool
	}{
		{[][]byte{{}}, true, false},
		{[][]byte{make([]byte, 32)}, true, false},
		{[][]byte{[]byte("short-secret")}, false, false},
		{[][]byte{[]byte("short-secret"), []byte(key)}, false, false}, // an old short key too
		{[][]byte{[]byte("short-secret")}, true, true},
		{[][]byte{[]byte(key)}, false, true},
	} {
		_, err := csrf.New(c.keys, csrf.Options{AllowWeakKeys: c.weak})
		if c.ok != (err == nil) || err != nil && !errors.Is(err, seshat.ErrWeakKey) {
			t.Errorf("%d keys, AllowWeakKeys %v: %v", len(c.keys), c.weak, err)
		}
		if err != nil && strings.Contains(err.Error(), "short-secret") {
			t.Errorf("error holds the key: %v", err)
		}
	}
}

// Without the session middleware a checked request is a configuration
// error: 500, never a pass.
func TestNoSessionMiddleware(t *testing.T) {
	p, err := csrf.New([][]byte{[]byte(key)}, csrf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", nil)
	req.Header.Set("X-CSRFToken", "x")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	if err := p.Check(httptest.NewRequest("POST", "/", nil)); !errors.Is(err, csrf.ErrTokenMissing) {
		t.Errorf("Check without token: %v", err)
	}
}

// tamper changes the first character of the signature. (Replacing the last
// character with "A" left the token valid when it already ended in "A", or
// when only unused base64 bits changed: a flaky test.)
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// CS-05 (BREACH): with MaskTokens every request renders the token under a
// new random mask, so the bytes differ from page to page while the secret
// stays; masked tokens pass, as do plain (Flask-WTF) ones; a tampered or
// malformed masked token is refused.
func TestMaskedTokens(t *testing.T) {
	a := newApp(t, false, csrf.Options{MaskTokens: true})
	t1 := a.token(t, "")
	t2 := a.token(t, "") // the same second, the same underlying token
	if !strings.HasPrefix(t1, "~") || t1 == t2 {
		t.Fatalf("tokens %q and %q: want two different masked renderings", t1, t2)
	}
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {t1}}}), "")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": t2}}), "")
	// The plain token inside (what Flask-WTF would render) passes too.
	b, err := base64.RawURLEncoding.DecodeString(t1[1:])
	if err != nil {
		t.Fatal(err)
	}
	n := len(b) / 2
	for i := range n {
		b[n+i] ^= b[i]
	}
	plain := string(b[n:])
	if strings.HasPrefix(plain, "~") || strings.Contains(t1, plain) {
		t.Fatalf("plain token %q visible in the masked one", plain)
	}
	expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {plain}}}), "")
	flipped := []byte(t1)
	flipped[len(flipped)-1] ^= 0x01 // still base64url, another byte
	for _, bad := range []string{string(flipped), "~", "~!!", "~" + strings.Repeat("A", 7)} {
		expect(t, a.do(t, call{path: "/x", form: url.Values{"csrf_token": {bad}}}), "ErrTokenInvalid")
	}
}
