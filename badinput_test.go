package seshat_test

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
	"github.com/seshat-go/seshat/flasksession"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/signing"
)

// signRaw signs an arbitrary payload exactly as a Flask session cookie would
// be signed with testKey, so the tests can reach the decoder behind a valid
// signature.
func signRaw(t *testing.T, payload []byte, compress bool, at time.Time) string {
	t.Helper()
	ts, err := signing.NewTimestampSigner([][]byte{testKey}, signing.Options{Salt: []byte("cookie-session"), KeyDerivation: signing.HMAC})
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if compress {
		var zb bytes.Buffer
		zw := zlib.NewWriter(&zb)
		zw.Write(payload)
		zw.Close()
		body = append([]byte("."), base64.RawURLEncoding.EncodeToString(zb.Bytes())...)
	} else {
		body = []byte(base64.RawURLEncoding.EncodeToString(payload))
	}
	return string(ts.SignAt(body, at))
}

// badRow is one entry of the bad-input catalogue. A header row sends its
// Cookie header lines ("{good}" stands for a valid cookie of the row's
// manager) through a real server and through Manager.Load; a call row runs
// call. Either way the row must not panic, and nothing the row logs (at
// Debug) or returns may hold the key, a cookie value or a session id.
type badRow struct {
	name    string
	store   bool     // header rows: store mode (memstore) instead of cookie mode
	headers []string // Cookie header lines
	call    func(t *testing.T, logger *slog.Logger) error
	// want is the error the row must produce (errors.Is): the session's
	// LoadError for header rows, call's result for call rows. nil for a
	// header row means the session loads (user alice); with empty set, it
	// means no candidate cookie was considered at all.
	want  error
	empty bool
	// secrets are more strings that must reach neither the log nor an error.
	secrets []string
}

// TestBadInputCatalogue is the catalogue of hostile and broken input (issue
// 8, SECURITY.md DS-02, SID-05): every row gets a clear error or an empty
// session, never a panic or a 5xx, and no log line or error holds a secret.
func TestBadInputCatalogue(t *testing.T) {
	now := time.Unix(1710000000, 0)
	cfg := func(logger *slog.Logger) func(c *seshat.Config) {
		return func(c *seshat.Config) {
			c.Now = func() time.Time { return now }
			c.Lifetime = time.Hour
			c.Logger = logger
		}
	}
	m0 := newManager(t, cfg(nil))
	good, _ := m0.Codec().Encode(map[string]any{"user": "alice"}, now)
	otherKey := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{[]byte("another-key-another-key-another!")} })
	foreign, _ := otherKey.Codec().Encode(map[string]any{"user": "mallory"}, now)
	// 2.5 MB of spaces after a valid object: fits a 4 KB cookie compressed,
	// inflates far past MaxDecodedSize.
	bomb := bytes.Repeat([]byte(" "), 2500<<10)
	bomb = append([]byte(`{"a":1}`), bomb...)
	cookie := func(v string) []string { return []string{"session=" + v} }
	signed := func(payload string) []string { return cookie(signRaw(t, []byte(payload), false, now)) }

	rows := []badRow{
		// Signatures and timestamps.
		{name: "tampered signature", headers: cookie(good[:len(good)-2] + "AA"), want: signing.ErrBadSignature},
		{name: "tampered payload", headers: cookie("X" + good[1:]), want: signing.ErrBadSignature},
		{name: "truncated", headers: cookie(good[:len(good)/2]), want: signing.ErrBadSignature},
		{name: "wrong key", headers: cookie(foreign), want: signing.ErrBadSignature},
		{name: "expired", headers: cookie(signRaw(t, []byte(`{"a":1}`), false, now.Add(-2*time.Hour))), want: signing.ErrSignatureExpired},
		{name: "future-dated", headers: cookie(signRaw(t, []byte(`{"a":1}`), false, now.Add(time.Hour))), want: signing.ErrSignatureExpired},
		{name: "no separators", headers: cookie("garbage"), want: signing.ErrBadSignature},
		// Payloads behind a valid signature.
		{name: "non-base64 payload", headers: cookie(signRawBody(t, "!!!!", now)), want: signing.ErrBadPayload},
		{name: "non-JSON payload", headers: signed(`not json`), want: signing.ErrBadPayload},
		{name: "top-level list", headers: signed(`[1,2]`), want: signing.ErrBadPayload},
		{name: "deep nesting", headers: cookie(signRaw(t, []byte(strings.Repeat("[", 100000)+strings.Repeat("]", 100000)), true, now)), want: signing.ErrBadPayload},
		{name: "invalid UTF-8 in JSON", headers: signed("{\"a\":\"\xff\xfe\"}"), want: signing.ErrBadPayload},
		{name: "zlib bomb", headers: cookie(signRaw(t, bomb, true, now)), want: signing.ErrBadPayload},
		{name: "bad tag value", headers: signed(`{" t":5}`), want: signing.ErrBadPayload},
		{name: "bad uuid tag", headers: signed(`{" u":"not-a-uuid"}`), want: signing.ErrBadPayload},
		// Flask accepts these (Python's json does), so seshat does too: the
		// session loads, no error.
		{name: "unknown tag is a plain dict", headers: signed(`{"user":"alice","x":{" zz":1}}`)},
		{name: "unparsable date is None", headers: signed(`{"user":"alice","d":{" d":"yesterday"}}`)},
		{name: "huge integer", headers: signed(`{"user":"alice","n":123456789012345678901234567890}`)},
		{name: "NaN and Infinity", headers: signed(`{"user":"alice","n":NaN,"i":-Infinity,"j":Infinity}`)},
		{name: "float overflow", headers: signed(`{"user":"alice","n":1e999}`)},
		// The Cookie header itself.
		{name: "invalid UTF-8 in the cookie", headers: cookie("\xff\xfe" + good[2:]), want: signing.ErrBadSignature},
		{name: "oversized value skipped", headers: cookie(strings.Repeat("A", 5000)), empty: true},
		{name: "oversized header (64 KiB)", headers: []string{strings.Repeat("x=", 16<<10) + "; session=" + good[:len(good)-1] + "B"}, want: signing.ErrBadSignature},
		{name: "thousands of cookies", headers: []string{strings.Repeat("session="+good[:len(good)-1]+"B; ", 5000) + "session=" + good}, want: signing.ErrBadSignature},
		{name: "duplicate: forged first", headers: []string{"session=" + foreign + "; session=" + good}},
		{name: "duplicate: good first", headers: []string{"session=" + good + "; session=" + foreign}},
		{name: "duplicate: second header line", headers: []string{"session=" + foreign, "session=" + good}},
		{name: "quoted and look-alike names", headers: []string{`"session"=` + good + "; \u2000session=" + good + "; Session=" + good}, empty: true},
		// Store mode: ids that must never reach the store.
		{name: "store: path tricks in the id", store: true, headers: cookie("../../etc/passwd"), want: seshat.ErrInvalidCookie},
		{name: "store: unsigned well-formed id", store: true, headers: cookie(strings.Repeat("A", 43)), want: seshat.ErrInvalidCookie},
		{name: "store: forged then good", store: true, headers: []string{"session=" + strings.Repeat("A", 43) + ".x; session={good}"}},
		// Decoders and writers behind the middleware.
		{name: "pickle with GLOBAL+REDUCE (os.system)", call: forbiddenPickle, want: flasksession.ErrUnsupportedOpcode},
		{name: "pickle with BUILD", call: func(*testing.T, *slog.Logger) error {
			_, err := flasksession.DecodePickle([]byte("\x80\x04}\x94}\x94b."))
			return err
		}, want: flasksession.ErrUnsupportedOpcode},
		{name: "file store: path tricks in keys", call: fileStorePaths, want: filestore.ErrInvalidKey},
		{name: "Flask-Session file store: path tricks in ids", call: flaskFileStorePaths, want: flasksession.ErrMalformedID},
		{name: "CR/LF in cookie Path", call: func(t *testing.T, l *slog.Logger) error {
			_, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Logger: l, Cookie: seshat.CookieOptions{Path: "/\r\nSet-Cookie: evil=1"}})
			return err
		}, want: seshat.ErrConfig},
		{name: "CR/LF in cookie Domain", call: func(t *testing.T, l *slog.Logger) error {
			_, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Logger: l, Cookie: seshat.CookieOptions{Domain: "example.com\r\nX: y"}})
			return err
		}, want: seshat.ErrConfig},
		{name: "CR/LF in cookie Name", call: func(t *testing.T, l *slog.Logger) error {
			_, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Logger: l, Cookie: seshat.CookieOptions{Name: "s\r\nX"}})
			return err
		}, want: seshat.ErrConfig},
		{name: "CR/LF in session values stays out of the header", call: crlfValue},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			var logs testenv.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			secrets := append([]string{string(testKey)}, row.secrets...)
			var err error
			if row.call != nil {
				err = row.call(t, logger)
				if !errors.Is(err, row.want) || (row.want != nil && err == nil) {
					t.Fatalf("got %v, want %v", err, row.want)
				}
			} else {
				secrets, err = runHeaderRow(t, row, cfg(logger), logger, secrets)
			}
			out := logs.String()
			if err != nil {
				out += "\n" + err.Error()
			}
			for _, sec := range secrets {
				if len(sec) >= 12 && strings.Contains(out, sec[:12]) {
					t.Fatalf("a secret (%.12q...) reached the log or the error:\n%s", sec, out)
				}
			}
		})
	}
}

// runHeaderRow serves the row's Cookie header lines and loads them with
// Manager.Load; it returns the secrets to look for (the key plus every
// cookie value, and in store mode the live id) and the load error.
func runHeaderRow(t *testing.T, row badRow, mut func(*seshat.Config), logger *slog.Logger, secrets []string) ([]string, error) {
	var m *seshat.Manager
	lines := row.headers
	if row.store {
		fx := newStoredFixture(t, logger)
		m = fx.m
		secrets = append(secrets, fx.value, fx.key)
		lines = nil
		for _, l := range row.headers {
			lines = append(lines, strings.ReplaceAll(l, "{good}", fx.value))
		}
	} else {
		m = newManager(t, mut)
	}
	for _, l := range lines {
		for _, c := range strings.Split(l, ";") {
			if _, v, ok := strings.Cut(c, "="); ok && len(v) >= 12 {
				secrets = append(secrets, v)
			}
		}
	}
	srv := httptest.NewServer(m.Handler(routes()))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/user", nil)
	req.Header["Cookie"] = lines
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Cookie"] = lines
	s, err := m.Load(r.Context(), r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	accepted := row.want == nil && !row.empty
	switch {
	case accepted:
		if u, _ := seshat.Get[string](s, "user"); u != "alice" || string(body) != "alice" || s.LoadError() != nil {
			t.Fatalf("valid session refused: body %q, user %q, %v", body, u, s.LoadError())
		}
	case string(body) != "anonymous" || s.Len() != 0:
		t.Fatalf("bad cookie gave a session: %q", body)
	case row.want == nil && s.LoadError() != nil:
		t.Fatalf("no cookie should have been considered; reason %v", s.LoadError())
	case row.want != nil && (!errors.Is(s.LoadError(), row.want) || !errors.Is(s.LoadError(), seshat.ErrInvalidCookie)):
		t.Fatalf("reason %v, want %v", s.LoadError(), row.want)
	}
	return secrets, s.LoadError()
}

// forbiddenPickle plants a Flask-Session file holding a pickle that calls
// os.system and serves a request with that session's cookie: the store
// refuses it (503, not an empty session: Flask itself would run it), and
// the log names neither the id nor the key.
func forbiddenPickle(t *testing.T, logger *slog.Logger) error {
	dir := t.TempDir()
	st, err := flasksession.NewFileStore(dir, flasksession.FileStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	id := ids.New()
	// PROTO 4, "os", "system", STACK_GLOBAL, ("id",), REDUCE.
	evil := []byte("\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.")
	if err := os.WriteFile(filepath.Join(dir, flasksession.FileName("session:"+id)), flasksession.EncodeFile(0, evil), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Store: st, IDScheme: ids, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(routes()))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/user", nil)
	req.Header.Set("Cookie", "session="+ids.Encode(id, false))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	_, err = st.Load(context.Background(), id)
	if strings.Contains(err.Error(), id) {
		t.Fatalf("store error holds the raw id: %v", err)
	}
	return err
}

// fileStorePaths: keys that would leave the store directory are refused
// before any file is touched, and the error does not echo them.
func fileStorePaths(t *testing.T, _ *slog.Logger) error {
	st, err := filestore.New(filepath.Join(t.TempDir(), "s"), filestore.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var first error
	for _, k := range []string{"../../etc/passwd", "..", "/etc/passwd", "a/b", "users", "%2e%2e%2f", "x\x00y", strings.Repeat("a", 63) + "/"} {
		_, err := st.Load(context.Background(), k)
		if !errors.Is(err, filestore.ErrInvalidKey) || strings.Contains(err.Error(), k) {
			t.Fatalf("key %q: %v", k, err)
		}
		if err := st.Save(context.Background(), k, &seshat.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, filestore.ErrInvalidKey) {
			t.Fatalf("save %q: %v", k, err)
		}
		first = cmp.Or(first, err)
	}
	return first
}

// flaskFileStorePaths: a Flask-Session id that is not a canonical uuid is
// refused by the id scheme even when correctly signed, so it never reaches
// the store; and the file store itself hashes whatever key it gets into a
// file name inside its directory.
func flaskFileStorePaths(t *testing.T, _ *slog.Logger) error {
	ids, err := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := flasksession.NewFileStore(filepath.Join(dir, "s"), flasksession.FileStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var first error
	if err := st.Save(context.Background(), "", &seshat.Record{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, flasksession.ErrInvalidKey) {
		t.Fatalf("empty key: %v", err)
	}
	for _, k := range []string{"../../etc/passwd", "..", "/etc/passwd", "a/b", "..\\..\\x"} {
		_, _, err := ids.Decode(ids.Encode(k, false))
		if !errors.Is(err, flasksession.ErrMalformedID) {
			t.Fatalf("id %q: %v", k, err)
		}
		first = cmp.Or(first, err)
		if err := st.Save(context.Background(), k, &seshat.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "s", flasksession.FileName("session:"+k))); err != nil {
			t.Fatalf("key %q not hashed into the store directory: %v", k, err)
		}
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Fatalf("files outside the store directory: %v", names)
	}
	return first
}

// crlfValue: a session value holding CR/LF and cookie separators is
// base64 in the cookie, so the Set-Cookie header stays one valid cookie.
func crlfValue(t *testing.T, logger *slog.Logger) error {
	m := newManager(t, func(c *seshat.Config) { c.Logger = logger })
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("v", "a\r\nSet-Cookie: evil=1; b\x00\"")
	})
	rec := httptest.NewRecorder()
	m.Handler(mux).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	sc := rec.Result().Cookies()
	if len(sc) != 1 || sc[0].Valid() != nil || strings.ContainsAny(rec.Header().Get("Set-Cookie"), "\r\n\x00") {
		t.Fatalf("Set-Cookie %q", rec.Header().Values("Set-Cookie"))
	}
	return nil
}

func signRawBody(t *testing.T, body string, at time.Time) string {
	ts, _ := signing.NewTimestampSigner([][]byte{testKey}, signing.Options{Salt: []byte("cookie-session"), KeyDerivation: signing.HMAC})
	return string(ts.SignAt([]byte(body), at))
}

// TestCompressibleSessionOverDecodeCap: a session that zlib shrinks into a
// small cookie but that Decode would refuse to inflate (over MaxDecodedSize)
// must fail loudly at save, not vanish on the next request.
func TestCompressibleSessionOverDecodeCap(t *testing.T) {
	var saveErr error
	m := newManager(t, func(c *seshat.Config) {
		c.MaxDecodedSize = 8 << 10
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			saveErr = err
			http.Error(w, "nope", 500)
		}
	})
	mux := routes()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("blob", strings.Repeat("x", 20<<10))
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Set("blob", strings.Repeat("x", 4<<10))
	})
	c := newClient(t, m, mux)
	resp, _ := c.get("/big")
	if resp.StatusCode != 500 || !errors.Is(saveErr, seshat.ErrCookieTooLarge) {
		t.Fatalf("20 KiB of x under an 8 KiB decode cap: status %d, err %v; want ErrCookieTooLarge", resp.StatusCode, saveErr)
	}
	// Under the cap, compression still applies and the cookie reads back.
	resp, _ = c.get("/small")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "session=.") {
		t.Fatalf("4 KiB of x: status %d, cookie %.40q; want a compressed cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "session="+c.cookie)
	s, _ := m.Load(r.Context(), r)
	if v, _ := seshat.Get[string](s, "blob"); len(v) != 4<<10 {
		t.Fatalf("compressed session did not read back: %d bytes, %v", len(v), s.LoadError())
	}
}
