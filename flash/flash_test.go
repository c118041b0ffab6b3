package flash_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flash"
	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

type vecInputs struct {
	SecretKey string      `json:"secret_key"`
	Flashes   [][]*string `json:"flashes"`
	Route     string      `json:"route"`
	Cookie    *string     `json:"cookie"`
	Now       int64       `json:"now"`
}

type vecResponse struct {
	Status    int      `json:"status"`
	SetCookie []string `json:"set_cookie"`
	Vary      *string  `json:"vary"`
	Body      string   `json:"body"`
}

// manager is configured like the vectors' Flask app: Flask's cookie
// attributes (no SameSite, no Secure) so headers compare byte for byte.
func manager(t *testing.T, key string, now int64) *seshat.Manager {
	t.Helper()
	m, err := seshat.New(seshat.Config{
		Keys:             [][]byte{[]byte(key)},
		AllowWeakKeys:    true,
		FlaskCompression: true, // compressed where Flask compressed, for byte-for-byte comparison
		Logger:           slog.New(slog.DiscardHandler),
		Now:              func() time.Time { return time.Unix(now, 0) },
		Cookie:           seshat.CookieOptions{SameSite: http.SameSiteDefaultMode, Secure: seshat.SecureNever},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonMessages renders messages as the vectors' views do (markers for
// tuples and Markup).
func jsonMessages(msgs []flash.Message, withCategories bool) []any {
	out := []any{}
	for _, m := range msgs {
		var text any = m.Text
		if m.Markup {
			text = map[string]any{"$markup": m.Text}
		}
		if withCategories {
			out = append(out, map[string]any{"$tuple": []any{m.Category, text}})
		} else {
			out = append(out, text)
		}
	}
	return out
}

// routes mirrors the views of shared/flask-compat/gen/flask_cookie_vectors.py.
func routes(in vecInputs) http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, v any) {
		b, _ := json.Marshal(v)
		w.Write(b)
	}
	mux.HandleFunc("/flash", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		for _, f := range in.Flashes {
			cat := ""
			if f[0] != nil {
				cat = *f[0]
			}
			var err error
			if strings.HasPrefix(*f[1], "<") {
				err = flash.AddMarkup(s, cat, taggedjson.Markup(*f[1]))
			} else {
				err = flash.Add(s, cat, *f[1])
			}
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("user", "alice")
		s.Set("cart", []any{1, 2, 3})
		s.Set("n", 7)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/show", func(w http.ResponseWriter, r *http.Request) {
		write(w, jsonMessages(flash.Messages(r), true))
	})
	mux.HandleFunc("/show_plain", func(w http.ResponseWriter, r *http.Request) {
		write(w, jsonMessages(flash.Messages(r), false))
	})
	mux.HandleFunc("/show_filtered", func(w http.ResponseWriter, r *http.Request) {
		write(w, jsonMessages(flash.Messages(r, "error"), true))
	})
	mux.HandleFunc("/show_twice", func(w http.ResponseWriter, r *http.Request) {
		a := jsonMessages(flash.Messages(r), false)
		b := jsonMessages(flash.Messages(r), false)
		write(w, []any{a, b})
	})
	return mux
}

type result struct {
	status    int
	setCookie []string
	vary      []string
	body      string
}

func get(t *testing.T, url, cookie string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"), string(b)}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// payloadOf returns the tagged JSON inside a Set-Cookie of m's cookie.
func payloadOf(t *testing.T, m *seshat.Manager, setCookie string, now int64) string {
	t.Helper()
	val, _, _ := strings.Cut(strings.TrimPrefix(setCookie, "session="), ";")
	vals, err := m.Codec().Decode(val, -1, time.Unix(now, 0))
	if err != nil {
		t.Fatalf("decode %q: %v", setCookie, err)
	}
	b, err := taggedjson.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFlashVectors(t *testing.T) {
	f, err := flaskvectors.Load("flash")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, v := range f.Vectors {
		if v.Differs && !v.ProducedByFlask3() {
			continue // seshat follows Flask 3.1 where versions differ (Vary)
		}
		t.Run(v.Name, func(t *testing.T) {
			var in vecInputs
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			m := manager(t, in.SecretKey, in.Now)
			srv := httptest.NewServer(m.Handler(routes(in)))
			defer srv.Close()
			cookie := ""
			if in.Cookie != nil {
				cookie = "session=" + *in.Cookie
			}
			switch v.Kind {
			case "flash.write":
				route := "/flash"
				if in.Route == "/set after /flash" {
					route = "/set"
				}
				got := get(t, srv.URL+route, cookie)
				var want string
				if err := v.Field("payload_json", &want); err != nil {
					t.Fatal(err)
				}
				if len(got.setCookie) != 1 {
					t.Fatalf("Set-Cookie = %q", got.setCookie)
				}
				if p := payloadOf(t, m, got.setCookie[0], in.Now); p != want {
					t.Errorf("payload\n got %s\nwant %s", p, want)
				}
				var cv string
				if err := v.Field("cookie_value", &cv); err != nil {
					t.Fatal(err)
				}
				// Uncompressed cookies are byte-identical; compressed ones
				// differ only in zlib's bytes (see package signing).
				if !strings.HasPrefix(cv, ".") && got.setCookie[0] != "session="+cv+"; HttpOnly; Path=/" {
					t.Errorf("Set-Cookie\n got %s\nwant session=%s; HttpOnly; Path=/", got.setCookie[0], cv)
				}
				if v.Has("response") {
					var want vecResponse
					v.Field("response", &want)
					if got.status != want.Status || got.body != want.Body {
						t.Errorf("got %d %q, want %d %q", got.status, got.body, want.Status, want.Body)
					}
				}
			case "flash.read":
				var want vecResponse
				if err := v.Field("response", &want); err != nil {
					t.Fatal(err)
				}
				got := get(t, srv.URL+in.Route, cookie)
				if got.status != want.Status {
					t.Fatalf("status %d, want %d", got.status, want.Status)
				}
				if !sameJSON(t, got.body, want.Body) {
					t.Errorf("body\n got %s\nwant %s", got.body, want.Body)
				}
				if !slicesEqual(got.setCookie, want.SetCookie) {
					t.Errorf("Set-Cookie\n got %q\nwant %q", got.setCookie, want.SetCookie)
				}
				wantVary := []string(nil)
				if want.Vary != nil {
					wantVary = []string{*want.Vary}
				}
				if !slicesEqual(got.vary, wantVary) {
					t.Errorf("Vary %q, want %q", got.vary, wantVary)
				}
				if v.Has("payload_json_after") {
					var after *string
					v.Field("payload_json_after", &after)
					if after != nil && len(got.setCookie) == 1 {
						if p := payloadOf(t, m, got.setCookie[0], in.Now); p != *after {
							t.Errorf("payload after\n got %s\nwant %s", p, *after)
						}
					}
				}
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
		ran++
	}
	if ran != len(f.Vectors)-1 {
		t.Errorf("ran %d of %d vectors", ran, len(f.Vectors))
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// session runs fn inside a request of a fresh manager and returns the
// response's cookie (for a next request) through a real server.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *http.Client) {
	t.Helper()
	m := manager(t, "flash-test-key-0123456789abcdef0123", time.Now().Unix())
	srv := httptest.NewServer(m.Handler(h))
	t.Cleanup(srv.Close)
	jar := &jar{}
	return srv, &http.Client{Jar: jar}
}

// jar is a minimal one-cookie jar (enough for one session cookie).
type jar struct{ c []*http.Cookie }

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		j.c = []*http.Cookie{c}
		if c.MaxAge < 0 || c.Value == "" {
			j.c = nil
		}
	}
}
func (j *jar) Cookies(*url.URL) []*http.Cookie { return j.c }

func fetch(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func TestPeekPopAndLateAdd(t *testing.T) {
	srv, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		switch r.URL.Path {
		case "/add":
			flash.Add(s, "", "one")
			flash.Add(s, "error", "<script>x</script>")
		case "/peek":
			var b bytes.Buffer
			for _, m := range flash.Peek(s) {
				b.WriteString(m.Category + ":" + m.Text + "|")
			}
			if got := flash.Peek(s, "error"); len(got) != 1 {
				b.WriteString("BAD-FILTER")
			}
			w.Write(b.Bytes())
		case "/read-then-add":
			var b bytes.Buffer
			for _, m := range flash.Messages(r, "message") {
				b.WriteString(m.Text + "|")
			}
			flash.Add(s, "info", "later")
			// Cached: the late flash is not in this request's list.
			for _, m := range flash.Messages(r) {
				b.WriteString(m.Text + "|")
			}
			w.Write(b.Bytes())
		case "/pop":
			var b bytes.Buffer
			first := flash.Pop(s)
			for _, m := range first {
				b.WriteString(m.Category + ":" + m.Text + "|")
			}
			// As get_flashed_messages: a second read in the same request
			// returns the same (cached) list, filtered on demand.
			if again := flash.Pop(s); !slices.Equal(again, first) {
				b.WriteString("NOT-CACHED")
			}
			if flash.Pop(s, "error") != nil {
				b.WriteString("BAD-FILTER")
			}
			w.Write(b.Bytes())
		}
	})
	fetch(t, c, srv.URL+"/add")
	if got, want := fetch(t, c, srv.URL+"/peek"), "message:one|error:<script>x</script>|"; got != want {
		t.Errorf("peek = %q, want %q", got, want)
	}
	if got, want := fetch(t, c, srv.URL+"/read-then-add"), "one|one|<script>x</script>|"; got != want {
		t.Errorf("read = %q, want %q", got, want)
	}
	if got, want := fetch(t, c, srv.URL+"/pop"), "info:later|"; got != want {
		t.Errorf("pop = %q, want %q", got, want)
	}
	if got := fetch(t, c, srv.URL+"/pop"); got != "" {
		t.Errorf("second pop = %q", got)
	}
}

func TestMessagesWithoutMiddlewarePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Manager.Handler") {
			t.Errorf("recover() = %v", r)
		}
	}()
	flash.Messages(httptest.NewRequest("GET", "/", nil))
}

// Malformed lists (not written by Flask) are read without failing.
func TestMalformed(t *testing.T) {
	srv, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		switch r.URL.Path {
		case "/bad":
			s.Set(flash.Key, []any{"x", []any{"a"}, []any{int64(1), nil}, taggedjson.Tuple{"c", true}, []any{"d", 2.5}})
		case "/notlist":
			s.Set(flash.Key, "garbage")
		case "/add":
			if err := flash.Add(s, "x", "y"); err != nil {
				t.Error(err)
			}
		case "/pop":
			b, _ := json.Marshal(flash.Pop(s))
			w.Write(b)
		}
	})
	fetch(t, c, srv.URL+"/bad")
	want := `[{"Category":"1","Text":"None","Markup":false},{"Category":"c","Text":"True","Markup":false},{"Category":"d","Text":"2.5","Markup":false}]`
	if got := fetch(t, c, srv.URL+"/pop"); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	fetch(t, c, srv.URL+"/notlist")
	fetch(t, c, srv.URL+"/add")
	if got, want := fetch(t, c, srv.URL+"/pop"), `[{"Category":"x","Text":"y","Markup":false}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A tampered cookie is dropped: no flashes, no error.
func TestTamperedCookie(t *testing.T) {
	m := manager(t, "flash-test-key-0123456789abcdef0123", time.Now().Unix())
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/add" {
			flash.Add(seshat.FromContext(r.Context()), "error", "hi")
			return
		}
		b, _ := json.Marshal(flash.Messages(r))
		w.Write(b)
	})))
	defer srv.Close()
	res := get(t, srv.URL+"/add", "")
	val, _, _ := strings.Cut(res.setCookie[0], ";")
	tampered := val[:len(val)-2] + "AA"
	if val[len(val)-2:] == "AA" {
		tampered = val[:len(val)-2] + "BB"
	}
	got := get(t, srv.URL+"/show", tampered)
	if got.status != 200 || got.body != "null" {
		t.Errorf("tampered: %d %s", got.status, got.body)
	}
	got = get(t, srv.URL+"/show", val)
	if got.status != 200 || !strings.Contains(got.body, `"hi"`) {
		t.Errorf("valid: %d %s", got.status, got.body)
	}
}

// HD-01: reading flashes, even none, makes the response vary on Cookie.
func TestVaryCookie(t *testing.T) {
	m := manager(t, "flash-test-key-0123456789abcdef0123", time.Now().Unix())
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		switch r.URL.Path {
		case "/peek":
			flash.Peek(s)
		case "/pop":
			flash.Pop(s)
		case "/messages":
			flash.Messages(r)
		}
	})))
	defer srv.Close()
	for _, p := range []string{"/peek", "/pop", "/messages"} {
		if got := get(t, srv.URL+p, ""); !slicesEqual(got.vary, []string{"Cookie"}) || len(got.setCookie) != 0 {
			t.Errorf("%s: Vary %q, Set-Cookie %q", p, got.vary, got.setCookie)
		}
	}
}
