package main

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheapArgon keeps the tests fast; the format and code path are the real ones.
var cheapArgon = argonParams{Memory: 64, Time: 1, Threads: 1}

// testApp is the demo behind an httptest.Server.
type testApp struct {
	*app
	srv *httptest.Server
}

// newTestApp starts the demo on storeURL ("" = SQLite in a temp dir,
// "cookie", or a server URL) with a fresh users database.
func newTestApp(t *testing.T, storeURL string) *testApp {
	t.Helper()
	return newTestAppWith(t, storeURL, nil)
}

// newTestAppWith is newTestApp with the configuration changed by edit.
func newTestAppWith(t *testing.T, storeURL string, edit func(*config)) *testApp {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	users, err := openUsers(ctx, dir+"/demo.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { users.Close() })
	st, err := openSessionStore(ctx, storeURL, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	cfg := config{
		Secret: []byte("a test secret that is long enough, 32+ bytes"),
		Store:  st, Users: users, Argon: cheapArgon,
		Logger: slog.New(slog.DiscardHandler), LivePoll: 20 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &testApp{app: a, srv: srv}
}

// browser is one cookie jar: one browser profile.
type browser struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
	c    *http.Client
	last string // body of the last page
}

func (ta *testApp) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: ta.srv.URL, jar: jar, c: &http.Client{Jar: jar}}
}

// page is a response with its body.
type page struct {
	status int
	url    string // after redirects
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.last = string(body)
	return page{resp.StatusCode, resp.Request.URL.Path, string(body)}
}

// get loads path.
func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post submits a form to path with the CSRF token of the last page seen
// (loading the home page first when none was).
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if b.last == "" {
		b.get("/")
	}
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf_token") {
		form.Set("csrf_token", csrfToken(b.t, b.last))
	}
	return b.postRaw(path, form)
}

// postRaw submits form as it is.
func (b *browser) postRaw(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	whoamiRe  = regexp.MustCompile(`<span id="whoami"[^>]*>([^<]*)</span>`)
	flashRe   = regexp.MustCompile(`<div class="flash flash-(\w+)"[^>]*>([^<]*)</div>`)
	rowRe     = regexp.MustCompile(`(?s)<tr class="session-row"(?: data-handle="[0-9a-f]+")?( data-current="true")?>.*?</tr>`)
	handleRe  = regexp.MustCompile(`name="handle" value="([^"]+)"`)
	errTitle  = regexp.MustCompile(`<h1 id="error-title">([^<]*)</h1>`)
	themeAttr = regexp.MustCompile(`<body data-theme="(\w+)">`)
)

func csrfToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", body)
	}
	return m[1]
}

func (p page) whoami() string {
	m := whoamiRe.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func (p page) flashes() []string {
	var out []string
	for _, m := range flashRe.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1]+": "+html.UnescapeString(m[2]))
	}
	return out
}

func (p page) theme() string {
	m := themeAttr.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// hasFlash reports whether p shows a flash of category containing text.
func (p page) hasFlash(category, text string) bool {
	for _, f := range p.flashes() {
		if strings.HasPrefix(f, category+": ") && strings.Contains(f, text) {
			return true
		}
	}
	return false
}

// signup creates an account through the form.
func (b *browser) signup(email, password string) page {
	b.t.Helper()
	b.get("/signup")
	return b.post("/signup", url.Values{"email": {email}, "password": {password}})
}

// login logs in through the form.
func (b *browser) login(email, password string, remember bool) page {
	b.t.Helper()
	b.get("/login")
	f := url.Values{"email": {email}, "password": {password}}
	if remember {
		f.Set("remember", "1")
	}
	return b.post("/login", f)
}

// cookie returns the value of the named cookie the browser holds.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// mustBe fails unless the page shows email (or "anonymous") as the user.
func (p page) mustBe(t *testing.T, who string) {
	t.Helper()
	if got := p.whoami(); got != who {
		t.Fatalf("whoami = %q, want %q (page %s, status %d, flashes %q)", got, who, p.url, p.status, p.flashes())
	}
}
