package interop_test

// Live interop of package login with Flask-Login 0.6.2: a real Flask app
// (flaskapp/login_app.py under /usr/bin/python3, Debian's Flask 2.2.2) and a
// seshat app share SECRET_KEY, the session cookie and, in Flask-compatible
// remember mode, the remember cookie.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/login"
)

const (
	loginPython = "/usr/bin/python3"
	// loginSecret is non-ASCII on purpose: Flask signs the session with its
	// UTF-8 bytes, Flask-Login the remember cookie with its Latin-1 bytes.
	loginSecret = "interop-login-secret-é-0123456789abcdef"
	loginUA     = "Mozilla/5.0 (X11; Linux x86_64) SeshatInterop/1.0"
)

// loginFlask is the running Flask + Flask-Login app.
type loginFlask struct {
	url string
}

// startLoginFlask starts flaskapp/login_app.py, or skips (fails with
// SESHAT_REQUIRE_SERVICES=1) when /usr/bin/python3 cannot import Flask and
// Flask-Login.
func startLoginFlask(t *testing.T, protection string) *loginFlask {
	t.Helper()
	v := pyproc.Require(t, loginPython+" with flask_login", loginPython, "import flask, flask_login; print(flask_login.__version__)")
	if v != "0.6.2" {
		t.Logf("Flask-Login %s (the vectors are from 0.6.2)", v)
	}
	_, file, _, _ := runtime.Caller(0)
	cmd := pyproc.Command(loginPython, filepath.Join(filepath.Dir(file), "flaskapp", "login_app.py"),
		"LOGINAPP_SECRET_KEY="+loginSecret, "LOGINAPP_PROTECTION="+protection)
	_, u := pyproc.Serve(t, "flask login app", cmd)
	return &loginFlask{url: u}
}

type loginTestUser string

func (u loginTestUser) ID() string { return string(u) }

// startLoginGo starts the seshat app with the same routes as login_app.py.
func startLoginGo(t *testing.T, protection login.Protection) string {
	t.Helper()
	sm, err := seshat.New(seshat.Config{
		Keys:          [][]byte{[]byte(loginSecret)},
		AllowWeakKeys: true, // not needed (the key is long), kept explicit for a Flask key
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := login.Latin1Key(loginSecret)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := login.New(login.Config{
		LoadUser: func(_ context.Context, id string) (login.User, error) {
			if id == "42" || id == "7" {
				return loginTestUser(id), nil
			}
			return nil, nil
		},
		LoginURL:         "/login_page",
		RefreshURL:       "/login_page",
		Protection:       protection,
		Remember:         login.RememberFlask,
		FlaskRememberKey: key,
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LoginUser(w, r, loginTestUser(r.PathValue("uid")), login.LoginOptions{Remember: r.URL.Query().Get("remember") == "1"}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		_ = lm.LogoutUser(w, r)
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		auth := lm.IsAuthenticated(r)
		s := seshat.FromContext(r.Context())
		out := map[string]any{"authenticated": auth, "id": nil, "keys": s.Keys()}
		if auth {
			out["id"] = lm.CurrentUser(r).ID()
		}
		out["fresh"], _ = s.Get(login.KeyFresh)
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.Handle("/private", lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })))
	mux.Handle("/fresh", lm.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fresh secret") })))
	mux.HandleFunc("/login_page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "login page") })
	srv := httptest.NewServer(sm.Handler(lm.Handler(mux)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// loginJar is a browser's cookies for 127.0.0.1 (cookies ignore ports).
type loginJar map[string]string

type loginResp struct {
	status int
	loc    string
	body   string
	who    map[string]any
}

func loginGet(t *testing.T, j loginJar, base, path, ua string) loginResp {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	for k, v := range j {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(j, ck.Name)
		} else {
			j[ck.Name] = ck.Value
		}
	}
	out := loginResp{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(b)}
	if strings.HasSuffix(path, "/whoami") || path == "/whoami" {
		if err := json.Unmarshal(b, &out.who); err != nil {
			t.Fatalf("%s%s: %v: %q", base, path, err, b)
		}
	}
	if res.StatusCode >= 500 {
		t.Fatalf("%s%s: %d %s", base, path, res.StatusCode, b)
	}
	return out
}

func wantWho(t *testing.T, side string, r loginResp, id any, fresh any) {
	t.Helper()
	if r.who["authenticated"] != (id != nil) || r.who["id"] != id || r.who["fresh"] != fresh {
		t.Errorf("%s whoami = %v, want id %v fresh %v", side, r.who, id, fresh)
	}
}

func TestLoginLiveFlaskLogin(t *testing.T) {
	fl := startLoginFlask(t, "basic")
	gs := startLoginGo(t, login.ProtectionBasic)
	sides := []struct {
		name, a, b string // a logs in, b reads
	}{
		{"flask-to-seshat", fl.url, gs},
		{"seshat-to-flask", gs, fl.url},
	}
	for _, sd := range sides {
		t.Run(sd.name, func(t *testing.T) {
			t.Run("session", func(t *testing.T) {
				j := loginJar{}
				loginGet(t, j, sd.a, "/login/42", loginUA)
				if j["remember_token"] != "" {
					t.Fatal("remember cookie without remember=1")
				}
				wantWho(t, "reader", loginGet(t, j, sd.b, "/whoami", loginUA), "42", true)
				if r := loginGet(t, j, sd.b, "/fresh", loginUA); r.status != 200 || r.body != "fresh secret" {
					t.Errorf("fresh on the reader: %d %q", r.status, r.body)
				}
				// Another browser (user agent) with the same cookie: basic
				// protection on the reader marks the login not fresh.
				k := loginJar{"session": j["session"]}
				wantWho(t, "reader, other UA", loginGet(t, k, sd.b, "/whoami", "Other/2"), "42", false)
				// The login side reads the reader's rewritten cookie.
				wantWho(t, "writer, other UA", loginGet(t, k, sd.a, "/whoami", "Other/2"), "42", false)
				// Logout on the reader logs out on the writer.
				loginGet(t, j, sd.b, "/logout", loginUA)
				wantWho(t, "writer after logout", loginGet(t, j, sd.a, "/whoami", loginUA), nil, nil)
			})
			t.Run("remember", func(t *testing.T) {
				j := loginJar{}
				loginGet(t, j, sd.a, "/login/42?remember=1", loginUA)
				if j["remember_token"] == "" || !strings.HasPrefix(j["remember_token"], "42|") {
					t.Fatalf("remember cookie %q", j["remember_token"])
				}
				delete(j, "session") // the browser was closed
				wantWho(t, "reader from remember", loginGet(t, j, sd.b, "/whoami", loginUA), "42", false)
				if r := loginGet(t, j, sd.b, "/fresh", loginUA); r.status != http.StatusFound || r.loc != "/login_page?next=%2Ffresh" {
					t.Errorf("fresh after a remember login: %d %q", r.status, r.loc)
				}
				// The session the reader made from the cookie works on the writer.
				wantWho(t, "writer", loginGet(t, j, sd.a, "/whoami", loginUA), "42", false)
				// Logout on the reader deletes the remember cookie.
				loginGet(t, j, sd.b, "/logout", loginUA)
				if _, ok := j["remember_token"]; ok {
					t.Error("logout kept the remember cookie")
				}
				// The session still holds the flash of the /fresh redirect,
				// and no "_id": both Flask-Login and package login's basic
				// protection then set "_fresh" to false.
				wantWho(t, "writer after logout", loginGet(t, j, sd.a, "/whoami", loginUA), nil, false)
			})
		})
	}
	t.Run("same-redirect-and-flash", func(t *testing.T) {
		var got []loginResp
		var sessions []map[string]any
		for _, base := range []string{fl.url, gs} {
			j := loginJar{}
			got = append(got, loginGet(t, j, base, "/private?tab=2&x=a%20b", loginUA))
			v, err := seshat.DecodeUnverified(j["session"])
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, v)
		}
		if got[0].status != got[1].status || got[0].loc != got[1].loc || got[0].body != got[1].body {
			t.Errorf("redirects differ:\n flask  %d %q %q\n seshat %d %q %q", got[0].status, got[0].loc, got[0].body, got[1].status, got[1].loc, got[1].body)
		}
		if !reflect.DeepEqual(sessions[0], sessions[1]) {
			t.Errorf("flashed sessions differ:\n flask  %#v\n seshat %#v", sessions[0], sessions[1])
		}
		// Flask reads the flash seshat wrote.
		j := loginJar{}
		loginGet(t, j, gs, "/private", loginUA)
		r := loginGet(t, j, fl.url, "/flashes", loginUA)
		if r.body != `[["message", "Please log in to access this page."]]` {
			t.Errorf("Flask's get_flashed_messages after seshat's redirect: %q", r.body)
		}
	})
	t.Run("non-ascii-user-agent", func(t *testing.T) {
		// The identifier is computed from the header's bytes read as
		// Latin-1, as Werkzeug's server hands them to Flask.
		ua := "Caf\xc3\xa9Browser/1"
		for _, sd := range sides {
			j := loginJar{}
			loginGet(t, j, sd.a, "/login/42", ua)
			wantWho(t, sd.name, loginGet(t, j, sd.b, "/whoami", ua), "42", true)
		}
	})
}

func TestLoginLiveStrongProtection(t *testing.T) {
	fl := startLoginFlask(t, "strong")
	gs := startLoginGo(t, login.ProtectionStrong)
	for _, sd := range []struct{ name, a, b string }{{"flask-to-seshat", fl.url, gs}, {"seshat-to-flask", gs, fl.url}} {
		t.Run(sd.name, func(t *testing.T) {
			j := loginJar{}
			loginGet(t, j, sd.a, "/login/42?remember=1", loginUA)
			wantWho(t, "same UA", loginGet(t, j, sd.b, "/whoami", loginUA), "42", true)
			stolen := loginJar{"session": j["session"], "remember_token": j["remember_token"]}
			wantWho(t, "other UA", loginGet(t, stolen, sd.b, "/whoami", "Other/2"), nil, nil)
			if _, ok := stolen["remember_token"]; ok {
				t.Error("strong protection kept the remember cookie")
			}
		})
	}
}
