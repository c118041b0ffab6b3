package e2e

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/internal/testenv"
)

// flaskPython returns the first interpreter that imports Flask and
// Flask-Login: SESHAT_FLASKPEER_PYTHON, python3 (Flask 3.1 on the test
// machine, but no Flask-Login), /usr/bin/python3 (Debian's Flask 2.2 and
// Flask-Login 0.6.2).
func flaskPython(t testing.TB) string {
	t.Helper()
	candidates := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("SESHAT_FLASKPEER_PYTHON"); p != "" {
		candidates = []string{p}
	}
	var errs []error
	for _, py := range candidates {
		out, err := pyproc.Run(context.Background(), py, "", "import flask, flask_login")
		if err == nil {
			return py
		}
		errs = append(errs, errors.New(py+": "+pyproc.LastLine(out)+" ("+err.Error()+")"))
	}
	testenv.Unavailable(t, "Python with Flask and Flask-Login", errors.Join(errs...))
	return ""
}

var flaskReady = regexp.MustCompile(`flaskpeer listening on (http://\S+)`)

// startFlaskPeer runs flaskpeer/app.py with the demo's secret and database
// and stops it by PID when t ends.
func startFlaskPeer(t testing.TB, python, secret, db string) string {
	t.Helper()
	cmd := pyproc.Command(python, filepath.Join("flaskpeer", "app.py"), "FLASKPEER_SECRET_KEY="+secret, "FLASKPEER_DB="+db)
	p, u, err := startProcess("flask peer", cmd, flaskReady)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	p.logOnFailure(t)
	return u
}

// startProxy serves both apps on one origin: /flask/... goes to the Flask
// peer, everything else to the demo. One origin means one cookie jar entry
// for "session" and same-origin form posts for the demo's CSRF check. The
// Host header is passed through, so each app sees the browser's origin.
// (Host-only cookies on 127.0.0.1 would also reach both ports — cookies
// ignore ports — but browsers are moving to port-bound cookies, and a proxy
// is how such apps are deployed.)
func startProxy(t testing.TB, demoURL, flaskURL string) string {
	t.Helper()
	demo, err := url.Parse(demoURL)
	if err != nil {
		t.Fatal(err)
	}
	flask, err := url.Parse(flaskURL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		if r.In.URL.Path == "/flask" || strings.HasPrefix(r.In.URL.Path, "/flask/") {
			r.SetURL(flask)
		} else {
			r.SetURL(demo)
		}
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestFlaskPeerSharesLogin: a user logs in on a real Flask + Flask-Login
// app and continues on the demo (its flash shown there too), logs out on the
// demo and is logged out on Flask, logs in on the demo and is logged in on
// Flask: one signed cookie, two frameworks.
func TestFlaskPeerSharesLogin(t *testing.T) {
	t.Parallel()
	browsers.get(t) // skip before starting anything when there is no Chromium
	python := flaskPython(t)
	d := cookieDemos.get(t)
	flask := startFlaskPeer(t, python, d.Secret, filepath.Join(d.Data, "demo.db"))
	b := newTab(t, "browser", startProxy(t, d.URL, flask))

	email := uniqueEmail("flask")
	b.signUp(email) // on the demo: only it can hash a password
	b.open("/flask/")
	if got := b.text("#flask-whoami"); got != "anonymous" {
		b.fatalf("Flask sees %q before any login, want anonymous", got)
	}
	b.submit("#flask-login", map[string]string{"email": email})
	b.wantPath("/") // Flask redirected to the demo
	b.wantFlash("success", "Logged in on Flask")
	b.wantSignedIn(email)
	b.open("/settings")
	b.wantPath("/settings") // a login-required page of the demo accepts Flask's login

	b.logOut() // on the demo
	b.open("/flask/")
	if got := b.text("#flask-whoami"); got != "anonymous" {
		b.fatalf("Flask sees %q after logout on the demo, want anonymous", got)
	}

	b.logInFully(email, false) // on the demo
	b.open("/flask/")
	if got := b.text("#flask-whoami"); got != email {
		b.fatalf("Flask sees %q after login on the demo, want %s", got, email)
	}
	for _, c := range b.cookies() {
		t.Logf("cookie %s (session=%v, %d bytes)", c.Name, c.Session, c.Size)
	}
}
