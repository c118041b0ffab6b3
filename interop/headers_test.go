package interop_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/interop/internal/flaskproc"
)

// headerConfigs are the Flask configurations whose responses seshat must
// reproduce header by header.
var headerConfigs = []struct {
	name string
	cfg  flaskproc.Config
	host string // Host header to send (SERVER_NAME must match it in 2.2)
}{
	{name: "default", cfg: flaskproc.Config{SecretKey: keyNew}},
	{name: "custom-attrs", cfg: flaskproc.Config{SecretKey: keyNew, CookieName: "sid", Domain: "example.com",
		Path: "/app", SameSite: "Strict", Secure: true, NoHTTPOnly: true, Lifetime: time.Hour}},
	{name: "lax-secure", cfg: flaskproc.Config{SecretKey: keyNew, SameSite: "Lax", Secure: true}},
	{name: "none-partitioned", cfg: flaskproc.Config{SecretKey: keyNew, SameSite: "None", Secure: true, Partitioned: true}},
	{name: "no-refresh", cfg: flaskproc.Config{SecretKey: keyNew, NoRefresh: true, Lifetime: 2 * time.Hour}},
	{name: "server-name", cfg: flaskproc.Config{SecretKey: keyNew, ServerName: "example.com:8080"}, host: "example.com:8080"},
}

// headerCase is one request sent to both sides.
type headerCase struct {
	name   string
	method string
	path   string
	body   string
	cookie string // a kind of cookie minted in TestHeaders, or "" (none)
	now    string
	// What Flask 3.1 does: a Set-Cookie (a value or the deletion), and Vary.
	cookieSent, deletion, vary bool
	// vary22 is what Flask 2.2 does with Vary where it differs from 3.1
	// (2.2 only counts get/[]/setdefault/writes as an access).
	vary22 *bool
}

// notIn22 marks a Vary that Flask 2.2 does not send.
var notIn22 = new(bool)

func headerCases() []headerCase {
	later := at(t0 + 10)
	return []headerCase{
		{name: "set", method: http.MethodPost, path: "/set", body: `{"user":"alice","n":1}`, now: at(t0), cookieSent: true, vary: true},
		{name: "set-fractional-now", method: http.MethodPost, path: "/set", body: `{"user":"alice","n":1}`, now: "1710000000.75", cookieSent: true, vary: true},
		{name: "set-permanent", method: http.MethodPost, path: "/set?permanent=1", body: `{"user":"alice"}`, now: at(t0), cookieSent: true, vary: true},
		{name: "set-permanent-fractional-now", method: http.MethodPost, path: "/set?permanent=1", body: `{"user":"alice"}`, now: "1710000000.999", cookieSent: true, vary: true},
		{name: "set-on-existing", method: http.MethodPost, path: "/set", body: `{"n":2}`, cookie: "plain", now: later, cookieSent: true, vary: true},
		{name: "permanent-false-on-empty", path: "/permanent?value=0", now: later, cookieSent: true, vary: true},
		{name: "make-existing-permanent", path: "/permanent?value=1", cookie: "plain", now: later, cookieSent: true, vary: true},
		{name: "make-permanent-non-permanent", path: "/permanent?value=0", cookie: "permanent", now: later, cookieSent: true, vary: true},
		{name: "clear-existing", path: "/clear", cookie: "plain", now: later, cookieSent: true, deletion: true, vary: true},
		{name: "clear-permanent", path: "/clear", cookie: "permanent", now: later, cookieSent: true, deletion: true, vary: true},
		{name: "clear-without-cookie", path: "/clear", now: later, cookieSent: true, deletion: true, vary: true},
		{name: "noop-permanent-refresh", path: "/noop", cookie: "permanent", now: later, cookieSent: true, vary: true},
		{name: "touch-permanent-refresh", path: "/touch", cookie: "permanent", now: later, cookieSent: true, vary: true},
		{name: "touch-non-permanent", path: "/touch", cookie: "plain", now: later, vary: true},
		{name: "noop-non-permanent", path: "/noop", cookie: "plain", now: later},
		{name: "noop-no-cookie", path: "/noop", now: later},
		{name: "noop-nested-permanent", path: "/noop", cookie: "nested-permanent", now: later},
		{name: "noop-permanent-false", path: "/noop", cookie: "permanent-false", now: later},
		{name: "touch-permanent-false", path: "/touch", cookie: "permanent-false", now: later, vary: true},
		{name: "noop-forged-permanent", path: "/noop", cookie: "forged-permanent", now: later},
		{name: "contains-non-permanent", path: "/contains", cookie: "plain", now: later, vary: true, vary22: notIn22},
		{name: "pop-missing-on-empty", path: "/pop_missing", now: later, vary: true, vary22: notIn22},
		{name: "dump-empty", path: "/dump", now: later, vary: true, vary22: notIn22},
		{name: "dump-non-permanent", path: "/dump", cookie: "plain", now: later, vary: true},
	}
}

// TestHeaders (e): for the same configuration, request and frozen time,
// seshat's Set-Cookie and Vary headers are byte-identical to Flask's. Where
// Flask 2.2 and 3.1 differ (Vary after `in`/pop/reading an empty session,
// Partitioned, a cookie Domain derived from SERVER_NAME), each Flask version's
// own behaviour is asserted and seshat is shown to follow 3.1. seshat adds
// "Cache-Control: private" to every response that sets a cookie (a
// deliberate difference, CVE-2023-30861); Flask adds none.
func TestHeaders(t *testing.T) {
	t.Parallel()
	forEachFlavor(t, func(t *testing.T, f flaskproc.Flavor) {
		cfgs := make([]flaskproc.Config, len(headerConfigs))
		for i, hc := range headerConfigs {
			cfgs[i] = hc.cfg
		}
		pairs := startPairs(t, f, cfgs...)
		for i, hc := range headerConfigs {
			p := pairs[i]
			t.Run(hc.name, func(t *testing.T) {
				name := p.cfg.CookieName
				if name == "" {
					name = "session"
				}
				// The cookies the cases send, minted by Flask; seshat mints the
				// same bytes.
				cookies := map[string]string{}
				for kind, m := range map[string]struct {
					permanent bool
					body      string
				}{
					"plain":     {false, `{"user":"alice","n":1}`},
					"permanent": {true, `{"user":"alice","n":1}`},
					// Not permanent, though "_permanent" appears in the
					// payload (seshat peeks at it without verifying).
					"nested-permanent": {false, `{"user":"alice","x":{"_permanent":true}}`},
					"permanent-false":  {false, `{"user":"alice","_permanent":false}`},
				} {
					mint := req{method: http.MethodPost, path: setPath(m.permanent), body: m.body, now: at(t0), host: hc.host}
					fw, gw := p.flask.must(t, mint), p.gosrv.must(t, mint)
					cookies[kind] = fw.cookie(t)
					if gw.cookie(t) != cookies[kind] {
						t.Fatalf("minted %s cookies differ: Flask %s, seshat %s", kind, cookies[kind], gw.cookie(t))
					}
				}
				perm := cookies["permanent"]
				cookies["forged-permanent"] = perm[:len(perm)-3] + "AAA"
				for _, hc2 := range headerCases() {
					if p.cfg.NoRefresh && strings.HasSuffix(hc2.name, "-refresh") {
						// SESSION_REFRESH_EACH_REQUEST off: no re-issue; a
						// touch still adds Vary.
						hc2.cookieSent, hc2.vary = false, hc2.path == "/touch"
					}
					t.Run(hc2.name, func(t *testing.T) {
						checkHeaders(t, p, hc.host, name, cookies, hc2)
					})
				}
			})
		}
	})
}

func checkHeaders(t *testing.T, p pair, host, name string, cookies map[string]string, c headerCase) {
	t.Helper()
	r := req{method: c.method, path: c.path, body: c.body, now: c.now, host: host}
	if c.cookie != "" {
		r.cookie = cookies[c.cookie]
	}
	fr, gr := p.flask.must(t, r), p.gosrv.must(t, r)
	is31 := p.flavor.Is31()

	// Flask's own behaviour, as the vectors describe it.
	if got := len(fr.setCookie) == 1; got != c.cookieSent || len(fr.setCookie) > 1 {
		t.Fatalf("Flask Set-Cookie %q, want one: %v", fr.setCookie, c.cookieSent)
	}
	if c.cookieSent {
		got := strings.HasPrefix(fr.setCookie[0], name+"=;") &&
			strings.Contains(fr.setCookie[0], "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0;")
		if got != c.deletion {
			t.Errorf("Flask Set-Cookie %q: deletion=%v, want %v", fr.setCookie[0], got, c.deletion)
		}
	}
	wantFlaskVary := c.vary
	if !is31 && c.vary22 != nil {
		wantFlaskVary = *c.vary22
	}
	if got := slices.Equal(fr.vary, []string{"Cookie"}); got != wantFlaskVary || (!got && len(fr.vary) > 0) {
		t.Errorf("Flask Vary %q, want Cookie: %v", fr.vary, wantFlaskVary)
	}
	if len(fr.cacheControl) != 0 {
		t.Errorf("Flask sent Cache-Control %q", fr.cacheControl)
	}

	// seshat: Flask's Set-Cookie, adjusted only where 2.2 differs from 3.1.
	wantGoCookie := slices.Clone(fr.setCookie)
	for i, h := range wantGoCookie {
		if !is31 && p.cfg.Partitioned {
			// Flask 2.2 has no SESSION_COOKIE_PARTITIONED; 3.1 (and seshat)
			// add the attribute last.
			if strings.Contains(h, "Partitioned") {
				t.Errorf("Flask 2.2 sent Partitioned: %q", h)
			}
			h += "; Partitioned"
		}
		if !is31 && p.cfg.ServerName != "" {
			// Flask 2.2 derives Domain=.example.com from SERVER_NAME; 3.1
			// (and seshat) never do.
			d := "; Domain=." + strings.Split(p.cfg.ServerName, ":")[0]
			if !strings.Contains(h, d) {
				t.Errorf("Flask 2.2 with SERVER_NAME sent no %q: %q", d, h)
			}
			h = strings.Replace(h, d, "", 1)
		}
		wantGoCookie[i] = h
	}
	if !slices.Equal(gr.setCookie, wantGoCookie) {
		t.Errorf("Set-Cookie differs\nFlask %s: %q\nseshat:      %q", p.flavor.Name, fr.setCookie, gr.setCookie)
	}
	wantVary := []string(nil)
	if c.vary {
		wantVary = []string{"Cookie"}
	}
	if !slices.Equal(gr.vary, wantVary) {
		t.Errorf("seshat Vary %q, want %q (Flask %s: %q)", gr.vary, wantVary, p.flavor.Name, fr.vary)
	}
	wantCC := []string(nil)
	if len(gr.setCookie) > 0 {
		wantCC = []string{"private"}
	}
	if !slices.Equal(gr.cacheControl, wantCC) {
		t.Errorf("seshat Cache-Control %q, want %q", gr.cacheControl, wantCC)
	}
	if fr.body != gr.body {
		t.Errorf("bodies differ: Flask %q, seshat %q", fr.body, gr.body)
	}
}
