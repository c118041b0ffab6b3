package main

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seshat-go/seshat/internal/flaskvectors"
)

// flaskInputs is the "inputs" object of a flask_session_cookie vector.
type flaskInputs struct {
	SecretKey *string        `json:"secret_key"`
	Config    map[string]any `json:"config"`
	Route     string         `json:"route"`
	Cookie    *string        `json:"cookie"`
	Now       int64          `json:"now"`
	// SessionAfterView is the session the view left, in the vectors'
	// marker form ({"$tuple": ...}); plain JSON when it has no tagged value.
	SessionAfterView json.RawMessage `json:"session_after_view"`
}

type flaskResponse struct {
	Status    int      `json:"status"`
	SetCookie []string `json:"set_cookie"`
	Body      *string  `json:"body"`
}

func loadVectors(t *testing.T, area string) []flaskvectors.Vector {
	t.Helper()
	f, err := flaskvectors.Load(area)
	if err != nil {
		t.Fatal(err)
	}
	return f.Vectors
}

func field(t *testing.T, v *flaskvectors.Vector, name string, dst any) {
	t.Helper()
	if err := v.Field(name, dst); err != nil {
		t.Fatal(err)
	}
}

// keyArgs returns the --key flags for a vector: SECRET_KEY_FALLBACKS first
// when Flask 3.1 made the vector (Flask 2.2 ignores them), SECRET_KEY last.
func keyArgs(v *flaskvectors.Vector, in flaskInputs) []string {
	var args []string
	if fb, ok := in.Config["SECRET_KEY_FALLBACKS"].([]any); ok && v.ProducedByFlask3() {
		for _, k := range fb {
			args = append(args, "--key", k.(string))
		}
	}
	return append(args, "--key", *in.SecretKey)
}

// maxAgeArgs returns --max-age for the vector's PERMANENT_SESSION_LIFETIME.
func maxAgeArgs(in flaskInputs) []string {
	if l, ok := in.Config["PERMANENT_SESSION_LIFETIME"].(float64); ok {
		return []string{"--max-age", strconv.FormatInt(int64(l), 10)}
	}
	return nil
}

func now(in flaskInputs) []string { return []string{"--now", strconv.FormatInt(in.Now, 10)} }

// TestVectorsSign: for every uncompressed Flask-made cookie, sign reproduces
// it byte for byte from the session JSON and the same key and time.
// (Compressed ones are verified instead: Go's zlib stream differs from
// Python's, which Flask accepts all the same.)
func TestVectorsSign(t *testing.T) {
	n := 0
	for _, area := range []string{"flask_session_cookie", "flash"} {
		for _, v := range loadVectors(t, area) {
			if !strings.HasPrefix(v.Name, "write/") || !v.Has("cookie_value") {
				continue
			}
			var in flaskInputs
			var value, payload string
			field(t, &v, "inputs", &in)
			field(t, &v, "cookie_value", &value)
			field(t, &v, "payload_json", &payload)
			if strings.HasPrefix(value, ".") || in.SecretKey == nil {
				continue
			}
			n++
			t.Run(area+"/"+v.Name+"@"+v.ProducedBy[0], func(t *testing.T) {
				args := append([]string{"sign", "--at", strconv.FormatInt(in.Now, 10)}, keyArgs(&v, in)...)
				r := runCLI(t, payload, nil, args...)
				if r.code != 0 || r.stdout != value+"\n" || r.stderr != "" {
					t.Errorf("sign %s\n got %+v\nwant %q", payload, r, value)
				}
				// The same session in the view's insertion order (Flask sorts
				// keys when it signs; so must seshat).
				if len(in.SessionAfterView) > 0 && !strings.Contains(string(in.SessionAfterView), `"$`) {
					r := runCLI(t, string(in.SessionAfterView), nil, args...)
					if r.stdout != value+"\n" {
						t.Errorf("sign %s\n got %+v\nwant %q", in.SessionAfterView, r, value)
					}
				}
			})
		}
	}
	if n < 10 {
		t.Fatalf("only %d sign vectors; the vector file changed?", n)
	}
}

// TestVectorsVerifyWrites: verify accepts every cookie Flask wrote, with
// Flask's key and time, and prints exactly the JSON Flask signed.
func TestVectorsVerifyWrites(t *testing.T) {
	n := 0
	for _, area := range []string{"flask_session_cookie", "flash"} {
		for _, v := range loadVectors(t, area) {
			if !strings.HasPrefix(v.Name, "write/") || !v.Has("cookie_value") {
				continue
			}
			var in flaskInputs
			var value, payload string
			field(t, &v, "inputs", &in)
			field(t, &v, "cookie_value", &value)
			field(t, &v, "payload_json", &payload)
			n++
			t.Run(area+"/"+v.Name+"@"+v.ProducedBy[0], func(t *testing.T) {
				args := append(append([]string{"verify"}, keyArgs(&v, in)...), now(in)...)
				args = append(append(args, maxAgeArgs(in)...), value)
				r := runCLI(t, "", nil, args...)
				if r.code != 0 || r.stdout != payload+"\n" || r.stderr != "" {
					t.Errorf("verify %s\n got %+v\nwant %s", value, r, payload)
				}
				d := runCLI(t, "", nil, "decode", value)
				if d.stdout != payload+"\n" {
					t.Errorf("decode %s: %+v", value, d)
				}
			})
		}
	}
	if n < 10 {
		t.Fatalf("only %d write vectors", n)
	}
}

// rejectReasons is what verify must say for the request vectors whose cookie
// Flask refused (an empty session, or HTTP 500 for a bad payload).
var rejectReasons = map[string]string{
	"request/expired-non-permanent-cookie":   verifyExpired,
	"request/expired-permanent-cookie":       verifyExpired,
	"request/future-timestamp":               verifyExpired,
	"request/tampered-signature":             verifyBadSig,
	"request/foreign-key":                    verifyBadSig,
	"request/old-key-no-fallbacks":           verifyBadSig,
	"request/garbage":                        verifyBadSig,
	"request/empty-value":                    verifyBadSig,
	"request/valid-signature-bad-json":       verifyBadData,
	"request/valid-signature-bad-tag":        verifyBadData,
	"request/valid-signature-top-level-list": verifyBadData,
	// Flask 2.2 ignores SECRET_KEY_FALLBACKS (3.1 accepts this cookie).
	"request/fallback-key-read": verifyBadSig,
}

// TestVectorsVerifyRequests replays the cookies Flask was sent in the
// request vectors: verify accepts exactly those Flask accepted (with the
// session Flask saw) and names the reason for the others; every cookie Flask
// sent back in those responses verifies too.
func TestVectorsVerifyRequests(t *testing.T) {
	accepted, rejected, reissued := 0, 0, 0
	for _, v := range loadVectors(t, "flask_session_cookie") {
		if !strings.HasPrefix(v.Name, "request/") {
			continue
		}
		var in flaskInputs
		var resp flaskResponse
		field(t, &v, "inputs", &in)
		field(t, &v, "response", &resp)
		if in.SecretKey == nil {
			continue // no SECRET_KEY: nothing to verify
		}
		t.Run(v.Name+"@"+v.ProducedBy[0], func(t *testing.T) {
			base := append(append([]string{"verify"}, keyArgs(&v, in)...), now(in)...)
			base = append(base, maxAgeArgs(in)...)
			if in.Cookie != nil {
				r := runCLI(t, "", nil, append(base, *in.Cookie)...)
				flaskRejected := resp.Status == 500 || (in.Route == "/read" && resp.Body != nil && *resp.Body == "{}")
				want, listed := rejectReasons[v.Name]
				switch {
				case flaskRejected && !listed:
					t.Fatalf("Flask rejected the cookie but rejectReasons has no reason for %s", v.Name)
				case flaskRejected:
					rejected++
					if r.code != 1 || r.stdout != "" || r.stderr != want {
						t.Errorf("verify: %+v, want exit 1 and %q", r, want)
					}
				default:
					accepted++
					if r.code != 0 || r.stderr != "" {
						t.Fatalf("verify: %+v, want success", r)
					}
					if in.Route == "/read" {
						// Flask's /read body is json.dumps(session): for these
						// untagged sessions the same JSON value.
						var got, want any
						if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
							t.Fatal(err)
						}
						if err := json.Unmarshal([]byte(*resp.Body), &want); err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("verify printed %s, Flask read %s", r.stdout, *resp.Body)
						}
					}
				}
			}
			for _, h := range resp.SetCookie {
				value, _, _ := strings.Cut(strings.TrimPrefix(h, "session="), ";")
				if value == "" {
					continue // deletion cookie
				}
				reissued++
				r := runCLI(t, "", nil, append(base, value)...)
				if r.code != 0 || r.stderr != "" {
					t.Errorf("verify of Flask's Set-Cookie %q: %+v", h, r)
				}
			}
		})
	}
	if accepted != 15 || rejected != 20 || reissued != 4 {
		// Rejected: 8 made by 2.2 and 3.1 each, 3 bad payloads shared by
		// both, and fallback-key-read by 2.2 only.
		t.Errorf("accepted %d, rejected %d, re-issued %d: the vector file changed?", accepted, rejected, reissued)
	}
}
