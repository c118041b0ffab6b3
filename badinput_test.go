package seshat_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
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

// TestBadCookieCatalogue: every kind of bad cookie gives a served request, an
// empty session, a reason that errors.Is can sort, and a log line holding
// neither the cookie nor the key.
func TestBadCookieCatalogue(t *testing.T) {
	now := time.Unix(1710000000, 0)
	var logs logBuffer
	m := newManager(t, func(c *seshat.Config) {
		c.Now = func() time.Time { return now }
		c.Lifetime = time.Hour
		c.Logger = logs.Logger()
	})
	good, _ := m.Codec().Encode(map[string]any{"user": "alice"}, now)
	otherKey := newManager(t, func(c *seshat.Config) { c.Keys = [][]byte{[]byte("another-key-another-key-another!")} })
	foreign, _ := otherKey.Codec().Encode(map[string]any{"user": "mallory"}, now)
	// 2.5 MB of spaces after a valid object: fits a 4 KB cookie compressed,
	// inflates far past MaxDecodedSize.
	bomb := bytes.Repeat([]byte(" "), 2500<<10)
	bomb = append([]byte(`{"a":1}`), bomb...)

	cases := []struct {
		name   string
		cookie string
		want   error // nil: no cookie considered at all
	}{
		{"tampered signature", good[:len(good)-2] + "AA", signing.ErrBadSignature},
		{"tampered payload", "X" + good[1:], signing.ErrBadSignature},
		{"truncated", good[:len(good)/2], signing.ErrBadSignature},
		{"wrong key", foreign, signing.ErrBadSignature},
		{"expired", signRaw(t, []byte(`{"a":1}`), false, now.Add(-2*time.Hour)), signing.ErrSignatureExpired},
		{"future-dated", signRaw(t, []byte(`{"a":1}`), false, now.Add(time.Hour)), signing.ErrSignatureExpired},
		{"no separators", "garbage", signing.ErrBadSignature},
		{"non-base64 payload", signRawBody(t, "!!!!", now), signing.ErrBadPayload},
		{"non-JSON payload", signRaw(t, []byte(`not json`), false, now), signing.ErrBadPayload},
		{"top-level list", signRaw(t, []byte(`[1,2]`), false, now), signing.ErrBadPayload},
		{"deeply nested", signRaw(t, []byte(strings.Repeat("[", 100000)+strings.Repeat("]", 100000)), true, now), signing.ErrBadPayload},
		{"invalid UTF-8", signRaw(t, []byte("{\"a\":\"\xff\xfe\"}"), false, now), signing.ErrBadPayload},
		{"zlib bomb", signRaw(t, bomb, true, now), signing.ErrBadPayload},
		{"bad tag value", signRaw(t, []byte(`{" t":5}`), false, now), signing.ErrBadPayload},
		{"huge number ok", signRaw(t, []byte(`{"n":123456789012345678901234567890}`), false, now), nil},
		{"NaN ok", signRaw(t, []byte(`{"n":NaN,"i":-Infinity}`), false, now), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.cookie) > 4096 {
				t.Fatalf("test cookie is %d bytes; it must fit a browser cookie", len(tc.cookie))
			}
			c := newClient(t, m, routes())
			c.cookie = tc.cookie
			resp, body := c.get("/user")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			r, _ := http.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", "session="+tc.cookie)
			s, _ := m.Load(r.Context(), r)
			if tc.want == nil {
				if s.LoadError() != nil || s.Len() == 0 {
					t.Fatalf("valid Flask data refused: %v", s.LoadError())
				}
				return
			}
			if body != "anonymous" || s.Len() != 0 {
				t.Fatalf("bad cookie gave a session: %q", body)
			}
			if !errors.Is(s.LoadError(), tc.want) || !errors.Is(s.LoadError(), seshat.ErrInvalidCookie) {
				t.Fatalf("reason %v, want %v", s.LoadError(), tc.want)
			}
		})
	}
	out := logs.String()
	for _, tc := range cases {
		if len(tc.cookie) > 12 && strings.Contains(out, tc.cookie[:12]) {
			t.Fatalf("a cookie reached the log:\n%s", out)
		}
	}
	if strings.Contains(out, string(testKey)) {
		t.Fatal("the key reached the log")
	}
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
