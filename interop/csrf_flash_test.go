package interop_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
	"github.com/seshat-go/seshat/flash"
	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/taggedjson"
)

// wtfKey is the SECRET_KEY both apps share (it signs the session cookie and
// the CSRF tokens).
const wtfKey = "interop-wtf-secret-key-0123456789abcdef"

// startWTFFlask runs flaskapp/wtf_app.py under the interpreter with Flask
// 2.2 and Flask-WTF 1.1.1 and returns its base URL; the app is stopped by
// PID when t ends.
func startWTFFlask(t *testing.T) string {
	t.Helper()
	py := pyproc.Interpreter("SESHAT_FLASK22_PYTHON", "/usr/bin/python3")
	pyproc.Require(t, py+" with Flask and Flask-WTF", py, "import flask, flask_wtf")
	_, file, _, _ := runtime.Caller(0)
	cmd := pyproc.Command(py, filepath.Join(filepath.Dir(file), "flaskapp", "wtf_app.py"), "FLASKAPP_SECRET_KEY="+wtfKey)
	_, u := pyproc.Serve(t, "wtf_app.py", cmd)
	return u
}

// startWTFGo serves the same routes with seshat, csrf and flash. Flask's
// origin is trusted, since a form Flask rendered posts here from it.
func startWTFGo(t *testing.T, flaskURL string) string {
	t.Helper()
	keys := [][]byte{[]byte(wtfKey)}
	sm, err := seshat.New(seshat.Config{Keys: keys, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(keys, csrf.Options{TrustedOrigins: []string{flaskURL}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, `<form method="post" action="/submit"><input type="hidden" name="csrf_token" value="%s"></form>`, tok)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /flash_post", func(w http.ResponseWriter, r *http.Request) {
		if err := flash.Add(seshat.FromContext(r.Context()), r.PostFormValue("cat"), r.PostFormValue("msg")); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /flash", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		q := r.URL.Query()
		var err error
		if q.Get("markup") == "1" {
			err = flash.AddMarkup(s, q.Get("cat"), taggedjson.Markup(q.Get("msg")))
		} else {
			err = flash.Add(s, q.Get("cat"), q.Get("msg"))
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /show", func(w http.ResponseWriter, r *http.Request) {
		out := [][]any{}
		for _, m := range flash.Messages(r) {
			out = append(out, []any{m.Category, m.Text, m.Markup})
		}
		json.NewEncoder(w).Encode(out)
	})
	srv := httptest.NewServer(sm.Handler(p.Protect(mux)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// wtfBrowser is a client with one cookie jar for both apps: they share the
// host 127.0.0.1, and cookies ignore ports, so the session cookie is shared
// as it is between two apps behind one domain.
type wtfBrowser struct {
	t *testing.T
	c *http.Client
}

func newWTFBrowser(t *testing.T) *wtfBrowser {
	jar, _ := cookiejar.New(nil)
	return &wtfBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
}

func (b *wtfBrowser) do(method, u string, form url.Values, header http.Header) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(out))
}

var wtfTokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token renders base's form and returns its token.
func (b *wtfBrowser) token(base string) string {
	b.t.Helper()
	st, page := b.do("GET", base+"/form", nil, nil)
	m := wtfTokenRE.FindStringSubmatch(page)
	if st != 200 || m == nil {
		b.t.Fatalf("GET %s/form: %d %q", base, st, page)
	}
	return m[1]
}

func (b *wtfBrowser) want(gotStatus int, gotBody string, status int, body string) {
	b.t.Helper()
	if gotStatus != status || gotBody != body {
		b.t.Fatalf("got %d %q, want %d %q", gotStatus, gotBody, status, body)
	}
}

// TestCSRFAndFlashLive runs Flask 2.2 + Flask-WTF 1.1.1 (CSRFProtect) and a
// seshat app side by side with the same SECRET_KEY, sharing the session
// cookie: forms rendered by either are accepted by the other, refusals carry
// the same reasons, and flashes cross in both directions.
func TestCSRFAndFlashLive(t *testing.T) {
	t.Parallel()
	fl := startWTFFlask(t)
	gosrv := startWTFGo(t, fl)
	fromFlask := http.Header{"Origin": {fl}}
	fromGo := http.Header{"Origin": {gosrv}}

	t.Run("flask form posts to seshat", func(t *testing.T) {
		b := newWTFBrowser(t)
		tok := b.token(fl) // Flask stores the secret in the session
		st, body := b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tok}}, fromFlask)
		b.want(st, body, 200, "ok")
		st, body = b.do("POST", gosrv+"/submit", nil, http.Header{"X-CSRFToken": {tok}})
		b.want(st, body, 200, "ok")
		st, body = b.do("POST", gosrv+"/submit", url.Values{"x": {"1"}}, fromFlask)
		b.want(st, body, 403, "Forbidden: The CSRF token is missing.")
		// Flask itself accepts its token too (sanity).
		st, body = b.do("POST", fl+"/submit", url.Values{"csrf_token": {tok}}, nil)
		b.want(st, body, 200, "ok")
		// From an untrusted origin, even with the token: refused by seshat.
		st, _ = b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tok}}, http.Header{"Origin": {"http://evil.example"}})
		if st != 403 {
			t.Fatalf("untrusted origin: %d", st)
		}
	})

	t.Run("seshat form posts to flask", func(t *testing.T) {
		b := newWTFBrowser(t)
		tok := b.token(gosrv) // seshat mints the secret
		st, body := b.do("POST", fl+"/submit", url.Values{"csrf_token": {tok}}, fromGo)
		b.want(st, body, 200, "ok")
		st, body = b.do("POST", fl+"/submit", nil, http.Header{"X-CSRF-Token": {tok}})
		b.want(st, body, 200, "ok")
		st, body = b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tok}}, nil)
		b.want(st, body, 200, "ok")
		// Both apps give the same reasons (Flask 400, seshat 403).
		bad := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
		st, body = b.do("POST", fl+"/submit", url.Values{"csrf_token": {bad}}, nil)
		b.want(st, body, 400, "The CSRF token is invalid.")
		st, body = b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {bad}}, nil)
		b.want(st, body, 403, "Forbidden: The CSRF token is invalid.")
		// The same secret after a Flask render: seshat's token and Flask's
		// token carry the same value.
		tokF := b.token(fl)
		st, body = b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tokF}}, nil)
		b.want(st, body, 200, "ok")
	})

	t.Run("tokens are bound to their session on both sides", func(t *testing.T) {
		a, b := newWTFBrowser(t), newWTFBrowser(t)
		tokA := a.token(fl)
		b.token(gosrv)
		st, body := b.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tokA}}, nil)
		b.want(st, body, 403, "Forbidden: The CSRF tokens do not match.")
		st, body = b.do("POST", fl+"/submit", url.Values{"csrf_token": {tokA}}, nil)
		b.want(st, body, 400, "The CSRF tokens do not match.")
		c := newWTFBrowser(t) // no session at all
		st, body = c.do("POST", fl+"/submit", url.Values{"csrf_token": {tokA}}, nil)
		b.want(st, body, 400, "The CSRF session token is missing.")
		st, body = c.do("POST", gosrv+"/submit", url.Values{"csrf_token": {tokA}}, nil)
		b.want(st, body, 403, "Forbidden: The CSRF session token is missing.")
	})

	t.Run("flash from seshat shows in flask", func(t *testing.T) {
		b := newWTFBrowser(t)
		b.token(gosrv)
		st, body := b.do("GET", gosrv+"/flash?cat=error&msg="+url.QueryEscape("From Go <i>"), nil, nil)
		b.want(st, body, 200, "ok")
		b.do("GET", gosrv+"/flash?msg=plain", nil, nil)
		st, body = b.do("GET", fl+"/show", nil, nil)
		b.want(st, body, 200, `[["error", "From Go <i>", false], ["message", "plain", false]]`)
		st, body = b.do("GET", gosrv+"/show", nil, nil)
		b.want(st, body, 200, `[]`)
		// The session's CSRF secret survived the pop on the Flask side.
		tok := b.token(gosrv)
		st, body = b.do("POST", fl+"/flash_post", url.Values{"csrf_token": {tok}, "cat": {"info"}, "msg": {"posted to Flask"}}, fromGo)
		b.want(st, body, 200, "ok")
		st, body = b.do("GET", gosrv+"/show", nil, nil)
		b.want(st, body, 200, `[["info","posted to Flask",false]]`)
	})

	t.Run("flash from flask shows in seshat", func(t *testing.T) {
		b := newWTFBrowser(t)
		b.do("GET", fl+"/flash?cat=info&markup=1&msg="+url.QueryEscape("<b>From Flask</b>"), nil, nil)
		b.do("GET", fl+"/flash?cat=warning&msg=two", nil, nil)
		st, body := b.do("GET", gosrv+"/show", nil, nil)
		b.want(st, body, 200, `[["info","\u003cb\u003eFrom Flask\u003c/b\u003e",true],["warning","two",false]]`)
		st, body = b.do("GET", fl+"/show", nil, nil)
		b.want(st, body, 200, `[]`)
		// A form rendered by Flask posts a flash to seshat; Flask shows it.
		tok := b.token(fl)
		st, body = b.do("POST", gosrv+"/flash_post", url.Values{"csrf_token": {tok}, "cat": {"error"}, "msg": {"posted to Go"}}, fromFlask)
		b.want(st, body, 200, "ok")
		st, body = b.do("GET", fl+"/show", nil, nil)
		b.want(st, body, 200, `[["error", "posted to Go", false]]`)
	})
}
