package interop_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/interop/internal/flaskproc"
	"github.com/seshat-go/seshat/interop/internal/goapp"
	"github.com/seshat-go/seshat/taggedjson"
)

// Keys: long enough for seshat's default key policy, plain ASCII so Flask's
// str keys encode to the same bytes.
const (
	keyNew   = "interop-secret-key-NEW-0123456789abcdef"
	keyOld   = "interop-secret-key-OLD-0123456789abcdef"
	keyOther = "interop-secret-key-OTHER-0123456789abcd"
)

// t0 is the frozen "now" of most requests (2024-03-09 16:00:00 UTC).
const t0 = int64(1710000000)

// at formats a frozen clock value for the X-Test-Now header.
func at(sec int64) string { return strconv.FormatInt(sec, 10) }

// server is one side under test: the Flask app or the seshat twin.
type server struct {
	name string // "flask3.1", "flask2.2" or "seshat"
	url  string
}

// response is what a test compares of an HTTP response.
type response struct {
	status       int
	setCookie    []string
	vary         []string
	cacheControl []string
	body         string
}

var client = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// req is one request sent to a server.
type req struct {
	method string // default GET
	path   string
	body   string
	cookie string // the whole Cookie header, "" for none
	now    string // X-Test-Now, "" for the real clock
	host   string // Host header, "" for the server's address
}

func (s *server) do(t *testing.T, r req) response {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequest(method, s.url+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.cookie != "" {
		hr.Header.Set("Cookie", r.cookie)
	}
	if r.now != "" {
		hr.Header.Set(goapp.NowHeader, r.now)
	}
	if r.host != "" {
		hr.Host = r.host
	}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", s.name, method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s %s: %v", s.name, method, r.path, err)
	}
	return response{
		status:       resp.StatusCode,
		setCookie:    resp.Header.Values("Set-Cookie"),
		vary:         resp.Header.Values("Vary"),
		cacheControl: resp.Header.Values("Cache-Control"),
		body:         string(body),
	}
}

// must is do that fails the test on a status other than 200.
func (s *server) must(t *testing.T, r req) response {
	t.Helper()
	resp := s.do(t, r)
	if resp.status != http.StatusOK {
		t.Fatalf("%s %s %s: status %d: %s", s.name, r.method, r.path, resp.status, resp.body)
	}
	return resp
}

// cookie returns the "name=value" pair of the response's only Set-Cookie,
// ready for a Cookie header.
func (r response) cookie(t *testing.T) string {
	t.Helper()
	if len(r.setCookie) != 1 {
		t.Fatalf("want one Set-Cookie, got %q", r.setCookie)
	}
	pair, _, _ := strings.Cut(r.setCookie[0], ";")
	if _, v, _ := strings.Cut(pair, "="); v == "" {
		t.Fatalf("Set-Cookie %q carries no value", r.setCookie[0])
	}
	return pair
}

// goConfig is seshat's configuration equivalent to a Flask app's, with
// Flask's defaults where seshat's safer defaults differ (no SameSite, no
// Secure).
func goConfig(fc flaskproc.Config) seshat.Config {
	keys := make([][]byte, 0, len(fc.Fallbacks)+1)
	for _, k := range fc.Fallbacks {
		keys = append(keys, []byte(k))
	}
	keys = append(keys, []byte(fc.SecretKey))
	c := seshat.Config{
		Keys:                 keys,
		Lifetime:             fc.Lifetime,
		NoRefreshEachRequest: fc.NoRefresh,
		FlaskCompression:     true, // Flask's compression choice, for byte-for-byte comparisons

		Cookie: seshat.CookieOptions{
			Name:            fc.CookieName,
			Domain:          fc.Domain,
			Path:            fc.Path,
			Secure:          seshat.SecureNever,
			DisableHTTPOnly: fc.NoHTTPOnly,
			Partitioned:     fc.Partitioned,
			SameSite:        http.SameSiteDefaultMode,
		},
	}
	if fc.Secure {
		c.Cookie.Secure = seshat.SecureAlways
	}
	switch fc.SameSite {
	case "Lax":
		c.Cookie.SameSite = http.SameSiteLaxMode
	case "Strict":
		c.Cookie.SameSite = http.SameSiteStrictMode
	case "None":
		c.Cookie.SameSite = http.SameSiteNoneMode
	}
	return c
}

// newGoServer serves the seshat twin app for cfg on 127.0.0.1. Without a
// Config.Logger, seshat's logs are discarded (tests that expect a log line
// set their own).
func newGoServer(t *testing.T, cfg seshat.Config) *server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := goapp.Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &server{name: "seshat", url: ts.URL}
}

// pair is a Flask app and the seshat twin with the equivalent configuration.
type pair struct {
	flask, gosrv *server
	flavor       flaskproc.Flavor
	cfg          flaskproc.Config
}

// sides returns both servers, Flask first.
func (p pair) sides() []*server { return []*server{p.flask, p.gosrv} }

// flaskApps runs each Flask app the tests need once per test binary.
var flaskApps flaskproc.Pool

func TestMain(m *testing.M) {
	code := m.Run()
	flaskApps.Close()
	os.Exit(code)
}

// startPairs returns a Flask app (started once per test binary, all at once)
// and a new seshat twin for each configuration.
func startPairs(t *testing.T, f flaskproc.Flavor, cfgs ...flaskproc.Config) []pair {
	t.Helper()
	apps := flaskApps.Get(t, f, cfgs...)
	pairs := make([]pair, len(cfgs))
	for i, cfg := range cfgs {
		pairs[i] = pair{
			flask:  &server{name: f.Name, url: apps[i].URL},
			gosrv:  newGoServer(t, goConfig(cfg)),
			flavor: f,
			cfg:    cfg,
		}
	}
	return pairs
}

// forEachFlavor runs fn as a parallel subtest per Flask flavor.
func forEachFlavor(t *testing.T, fn func(t *testing.T, f flaskproc.Flavor)) {
	for _, f := range flaskproc.Flavors {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, f)
		})
	}
}

// marshal is taggedjson.Marshal that fails the test on error.
func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := taggedjson.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	return string(b)
}

// unmarshalObject is taggedjson.UnmarshalObject that fails the test on error.
func unmarshalObject(t *testing.T, s string) map[string]any {
	t.Helper()
	m, err := taggedjson.UnmarshalObject([]byte(s))
	if err != nil {
		t.Fatalf("UnmarshalObject(%s): %v", s, err)
	}
	return m
}

// sessionCases are the sessions the read/write tests store, in Flask's
// tagged-JSON form (what the test POSTs to /set on either side).
var sessionCases = []struct {
	name string
	json string
	// permanent makes the session permanent after the values are set.
	permanent bool
}{
	{name: "plain", json: `{"user":"alice","cart":[1,2,3],"n":7}`},
	{name: "every-tag", json: `{` +
		`"tuple":{" t":[1,"two",[3,{" t":[]}]]},` +
		`"bytes":{" b":"AAEC/w=="},"empty_bytes":{" b":""},` +
		`"markup":{" m":"<b>bold</b> &amp; <i>it</i>"},` +
		`"uuid":{" u":"0123456789abcdef0123456789abcdef"},"uuid_dashed":{" u":"12345678-1234-5678-1234-567812345678"},` +
		`"datetime":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"},"epoch":{" d":"Thu, 01 Jan 1970 00:00:00 GMT"},` +
		`"escaped_tuple_key":{" di":{" t__":[1,2]}},` +
		`"escaped_nested":{" di":{" m__":{" b":"eHl6"}}},` +
		`"escaped_di":{" di":{" di__":"x"}},` +
		`"two_keys_not_escaped":{" t":1," b":2},` +
		`"list_of_tags":[{" t":["a",1]},{" u":"ffffffffffffffffffffffffffffffff"},{" m":""}]` +
		`}`},
	{name: "odd-tags", json: `{"unknown_tag":{" zz":1},"bad_date":{" d":"not a date"},` +
		`"offset_date":{" d":"Tue, 02 Jan 2024 03:04:05 +0200"},"rfc850_date":{" d":"Tuesday, 02-Jan-24 03:04:05 GMT"},` +
		`"asctime_date":{" d":"Tue Jan  2 03:04:05 2024"},"urn_uuid":{" u":"urn:uuid:12345678-1234-5678-1234-567812345678"},` +
		`"upper_uuid":{" u":"ABCDEF0123456789ABCDEF0123456789"},"braced_uuid":{" u":"{12345678-1234-5678-1234-567812345678}"},` +
		`"dup":1,"dup":2,"tuple_of_tag_dicts":{" t":[{" di":{" u__":"x"}}]}}`},
	{name: "nested", json: `{"a":[[1,[2,[3,{"b":{"c":[{" t":[{"d":[]}]}]}}]]]],"empty_list":[],"empty_dict":{},` +
		`"null":null,"yes":true,"no":false,"deep":{"x":{"y":{"z":{"w":[[[[[]]]]]}}}}}`},
	{name: "unicode", json: `{"ascii":"plain","latin":"h\u00e9llo w\u00f6rld","cjk":"\u65e5\u672c\u8a9e",` +
		`"astral":"\ud83d\ude00 \ud834\udd1e \ud83c\udff3\ufe0f\u200d\ud83c\udf08","separators":"\u2028\u2029",` +
		`"controls":"\u0000\u0001\u001f\u007f\"\\/\t\n","utf8_raw":"√ ∑ ∞ 😀","lone_surrogates":"\ud800x\udc00","reversed_pair":"\udc00\ud83d","k\u00e9y \ud83d\udd11":1,"":"empty key"}`},
	{name: "numbers", json: `{"zero":0,"neg":-1,"i53":9007199254740993,"i64max":9223372036854775807,` +
		`"i64min":-9223372036854775808,"big":123456789012345678901234567890,"negbig":-98765432109876543210987654321,` +
		`"f":1.5,"fneg":-0.0,"ftiny":1e-7,"fhuge":1e300,"fwhole":2.0,"pi":3.141592653589793,"third":0.3333333333333333,` +
		`"f16":1e16,"f15":1e15,"fmin":5e-324,"fmax":1.7976931348623157e308,"expo":12345678901234567890.0}`},
	{name: "nan-inf", json: `{"nan":NaN,"inf":Infinity,"ninf":-Infinity,"in_list":[NaN,1.0,-Infinity]}`},
	{name: "permanent", json: `{"user":"bob","roles":{" t":["admin","dev"]}}`, permanent: true},
	{name: "compressed", json: `{"blob":"` + strings.Repeat("seshat and flask ", 60) + `","list":[` +
		strings.Repeat(`{" t":[1,2,3]},`, 40) + `{" t":[]}]}`},
}
