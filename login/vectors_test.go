package login

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/flaskvectors"
)

type testUser string

func (u testUser) ID() string { return string(u) }

// vectorUsers are the user ids the generator's user_loader knows.
var vectorUsers = map[string]bool{"42": true, "7": true, "u|with|pipes": true}

func loadVectorUser(_ context.Context, id string) (User, error) {
	if vectorUsers[id] {
		return testUser(id), nil
	}
	return nil, nil
}

func loadVectors(t *testing.T, kind string) []flaskvectors.Vector {
	t.Helper()
	f, err := flaskvectors.Load("flask_login")
	if err != nil {
		t.Fatal(err)
	}
	var out []flaskvectors.Vector
	for _, v := range f.Vectors {
		if v.Kind == kind {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s vectors", kind)
	}
	return out
}

// latin1 returns the bytes whose Latin-1 decoding is s: what a client must
// send for a WSGI server to hand Flask the str s.
func latin1(t *testing.T, s string) string {
	t.Helper()
	b, err := Latin1Key(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVectorsIdentifier(t *testing.T) {
	for _, v := range loadVectors(t, "login.identifier") {
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				RemoteAddr string  `json:"remote_addr"`
				UserAgent  *string `json:"user_agent"`
				XFF        *string `json:"x_forwarded_for"`
			}
			var want string
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("output", &want); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = net.JoinHostPort(in.RemoteAddr, "40000")
			r.Header.Del("User-Agent")
			if in.UserAgent != nil {
				r.Header.Set("User-Agent", latin1(t, *in.UserAgent))
			}
			if in.XFF != nil {
				r.Header.Set("X-Forwarded-For", *in.XFF)
			}
			if got := Identifier(r, in.XFF != nil); got != want {
				t.Errorf("Identifier = %s, want %s", got, want)
			}
			if in.XFF != nil {
				// Not trusted: the connection's address counts.
				r2 := r.Clone(r.Context())
				r2.Header.Del("X-Forwarded-For")
				if got, want := Identifier(r, false), Identifier(r2, false); got != want {
					t.Errorf("untrusted X-Forwarded-For changed the identifier")
				}
			}
		})
	}
}

func TestPyBytesRepr(t *testing.T) {
	cases := map[string]string{
		"abc":      `b'abc'`,
		"it's":     `b"it's"`,
		`'"`:       `b'\'"'`,
		"a\\b":     `b'a\\b'`,
		"\t\n\r":   `b'\t\n\r'`,
		"\x00\xff": `b'\x00\xff'`,
	}
	for in, want := range cases {
		if got := pyBytesRepr([]byte(in)); got != want {
			t.Errorf("pyBytesRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestVectorsRememberEncode(t *testing.T) {
	for _, v := range loadVectors(t, "login.remember.encode") {
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				Secret string `json:"secret_key"`
				Hex    string `json:"secret_key_bytes_hex"`
				UserID string `json:"user_id"`
			}
			var want string
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("output", &want); err != nil {
				t.Fatal(err)
			}
			key, err := Latin1Key(in.Secret)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%x", key) != in.Hex {
				t.Fatalf("Latin1Key = %x, want %s", key, in.Hex)
			}
			if got := FlaskRememberValue(key, in.UserID); got != want {
				t.Errorf("FlaskRememberValue = %s, want %s", got, want)
			}
		})
	}
}

func TestVectorsRememberDecode(t *testing.T) {
	for _, v := range loadVectors(t, "login.remember.decode") {
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				Secret string `json:"secret_key"`
				Cookie string `json:"cookie"`
			}
			var want *string
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("output", &want); err != nil {
				t.Fatal(err)
			}
			key, _ := Latin1Key(in.Secret)
			got, ok := ParseFlaskRemember(key, in.Cookie)
			if want == nil {
				if ok {
					t.Errorf("ParseFlaskRemember accepted %q as %q", in.Cookie, got)
				}
				return
			}
			if !ok || got != *want {
				t.Errorf("ParseFlaskRemember = %q, %v; want %q", got, ok, *want)
			}
		})
	}
}

// flowApp is the generator's Flask app in Go, in Flask-compatible mode.
func flowApp(t *testing.T, secret string, cfg map[string]any, now time.Time, remoteAddr string) *httptest.Server {
	t.Helper()
	clock := func() time.Time { return now }
	sm, err := seshat.New(seshat.Config{
		Keys:             [][]byte{[]byte(secret)},
		AllowWeakKeys:    true,
		FlaskCompression: true, // compressed where Flask compressed, for byte-for-byte comparison
		Logger:           slog.New(slog.DiscardHandler),
		Now:              clock,
		Cookie:           seshat.CookieOptions{SameSite: http.SameSiteDefaultMode, Secure: seshat.SecureNever},
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := Latin1Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	lc := Config{
		LoadUser:         loadVectorUser,
		LoginURL:         "/login_page",
		RefreshURL:       "/login_page",
		Remember:         RememberFlask,
		FlaskRememberKey: key,
		Now:              clock,
	}
	for k, v := range cfg {
		switch k {
		case "SESSION_PROTECTION":
			if v == "strong" {
				lc.Protection = ProtectionStrong
			}
		case "USE_SESSION_FOR_NEXT":
			lc.UseSessionForNext = v == true
		case "REMEMBER_COOKIE_NAME":
			lc.RememberCookie.Name = v.(string)
		case "REMEMBER_COOKIE_DURATION_days":
			lc.RememberDuration = time.Duration(v.(float64)) * 24 * time.Hour
		case "REMEMBER_COOKIE_SECURE":
			if v == true {
				lc.RememberCookie.Secure = seshat.SecureAlways
			}
		case "REMEMBER_COOKIE_SAMESITE":
			if v == "Lax" {
				lc.RememberCookie.SameSite = http.SameSiteLaxMode
			}
		case "REMEMBER_COOKIE_DOMAIN":
			lc.RememberCookie.Domain = v.(string)
		case "REMEMBER_COOKIE_REFRESH_EACH_REQUEST":
			lc.RememberRefreshEachRequest = v == true
		default:
			t.Fatalf("config %s not mapped", k)
		}
	}
	lm, err := New(lc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login/{uid}", func(w http.ResponseWriter, r *http.Request) {
		opts := LoginOptions{Remember: r.URL.Query().Get("remember") == "1"}
		if d := r.URL.Query().Get("duration"); d != "" {
			f, _ := strconv.ParseFloat(d, 64)
			opts.Duration = time.Duration(f * float64(time.Second))
		}
		if err := lm.LoginUser(w, r, testUser(r.PathValue("uid")), opts); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/login_page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "login page") })
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := lm.LogoutUser(w, r); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/confirm", func(w http.ResponseWriter, r *http.Request) {
		_ = lm.ConfirmLogin(r)
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		u := lm.CurrentUser(r)
		out := map[string]any{"authenticated": lm.IsAuthenticated(r), "id": nil, "session": seshat.FromContext(r.Context()).Values()}
		if lm.IsAuthenticated(r) {
			out["id"] = u.ID()
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.Handle("/private", lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })))
	mux.Handle("/fresh", lm.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fresh secret") })))
	h := sm.Handler(lm.Handler(mux))
	// The vectors were made with REMOTE_ADDR set by the test client; a
	// real server sees 127.0.0.1, so the test server puts the vector's
	// address in its place.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = net.JoinHostPort(remoteAddr, "40000")
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func TestVectorsFlows(t *testing.T) {
	for _, v := range loadVectors(t, "login.flow") {
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				Secret     string            `json:"secret_key"`
				Config     map[string]any    `json:"config"`
				Route      string            `json:"route"`
				Cookies    map[string]string `json:"cookies"`
				Headers    map[string]string `json:"headers"`
				RemoteAddr string            `json:"remote_addr"`
				Now        int64             `json:"now"`
			}
			var resp struct {
				Status    int      `json:"status"`
				SetCookie []string `json:"set_cookie"`
				Vary      *string  `json:"vary"`
				Location  *string  `json:"location"`
				Body      string   `json:"body"`
			}
			var after json.RawMessage
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("response", &resp); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("session_after", &after); err != nil {
				t.Fatal(err)
			}
			srv := flowApp(t, in.Secret, in.Config, time.Unix(in.Now, 0), in.RemoteAddr)
			route := strings.ReplaceAll(in.Route, " ", "%20")
			req, err := http.NewRequest("GET", srv.URL+route, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range in.Headers {
				req.Header.Set(k, val)
			}
			var parts []string
			for k, val := range in.Cookies {
				parts = append(parts, k+"="+val)
			}
			if len(parts) > 0 {
				req.Header.Set("Cookie", strings.Join(parts, "; "))
			}
			client := &http.Client{CheckRedirect: noRedirect}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, res)
			if res.StatusCode != resp.Status {
				t.Errorf("status %d, want %d (body %q)", res.StatusCode, resp.Status, body)
			}
			checkSetCookies(t, in.Secret, res.Header.Values("Set-Cookie"), resp.SetCookie)
			if resp.Vary != nil && res.Header.Get("Vary") != *resp.Vary {
				t.Errorf("Vary %q, want %q", res.Header.Get("Vary"), *resp.Vary)
			}
			wantLoc := ""
			if resp.Location != nil {
				wantLoc = *resp.Location
			}
			if got := res.Header.Get("Location"); got != wantLoc {
				t.Errorf("Location %q, want %q", got, wantLoc)
			}
			if strings.HasPrefix(in.Route, "/whoami") {
				var got, want any
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(resp.Body), &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("body %s, want %s", body, resp.Body)
				}
			} else if body != resp.Body {
				t.Errorf("body %q, want %q", body, resp.Body)
			}
			if string(after) != "null" {
				want, err := flaskvectors.DecodeMarkers(after)
				if err != nil {
					t.Fatal(err)
				}
				got := sessionFromResponse(t, res, "session")
				if !reflect.DeepEqual(got, want) {
					t.Errorf("session after\n got  %#v\n want %#v", got, want)
				}
			}
		})
	}
}

// checkSetCookies compares Set-Cookie headers exactly, except that a
// zlib-compressed session cookie (".eJw..." from Python) may have other
// compressed bytes from Go's zlib: there the values must decode to the same
// data with the same timestamp, and the attributes must match exactly.
func checkSetCookies(t *testing.T, secret string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("Set-Cookie\n got  %q\n want %q", got, want)
		return
	}
	codec, err := seshat.NewCookieCodec([][]byte{[]byte(secret)}, seshat.DefaultSalt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		gv, ga, _ := strings.Cut(got[i], ";")
		wv, wa, _ := strings.Cut(want[i], ";")
		gn, gval, _ := strings.Cut(gv, "=")
		wn, wval, _ := strings.Cut(wv, "=")
		if ga != wa || gn != wn || !strings.HasPrefix(wval, ".") || !strings.HasPrefix(gval, ".") {
			t.Errorf("Set-Cookie %d\n got  %q\n want %q", i, got[i], want[i])
			continue
		}
		gparts, wparts := strings.Split(gval, "."), strings.Split(wval, ".")
		if len(gparts) != 4 || len(wparts) != 4 || gparts[2] != wparts[2] {
			t.Errorf("Set-Cookie %d timestamps differ\n got  %q\n want %q", i, got[i], want[i])
			continue
		}
		gd, err1 := codec.Decode(gval, 365*24*time.Hour*100, time.Now())
		wd, err2 := codec.Decode(wval, 365*24*time.Hour*100, time.Now())
		if err1 != nil || err2 != nil || !reflect.DeepEqual(gd, wd) {
			t.Errorf("Set-Cookie %d values differ (%v, %v)\n got  %#v\n want %#v", i, err1, err2, gd, wd)
		}
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// sessionFromResponse decodes (without verifying) the session cookie the
// response set.
func sessionFromResponse(t *testing.T, res *http.Response, name string) map[string]any {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name {
			if c.Value == "" {
				return map[string]any{}
			}
			v, err := seshat.DecodeUnverified(c.Value)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("response sets no %s cookie", name)
	return nil
}
