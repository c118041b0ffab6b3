package taggedjson_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

type result struct {
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error struct {
		Exception string `json:"exception"`
		Message   string `json:"message"`
	} `json:"error"`
}

func loadVectors(t testing.TB, area string) *flaskvectors.File {
	t.Helper()
	f, err := flaskvectors.Load(area)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func markers(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	v, err := flaskvectors.DecodeMarkers(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkCanonical fails when a decoded value is not in the model's canonical
// form (flaskvectors.Equal is lenient about int64 vs *big.Int).
func checkCanonical(t testing.TB, v any) {
	t.Helper()
	switch x := v.(type) {
	case *big.Int:
		if x.IsInt64() {
			t.Errorf("*big.Int %v fits int64", x)
		}
	case time.Time:
		if x.Location() != time.UTC || x.Nanosecond() != 0 {
			t.Errorf("time %v is not UTC whole seconds", x)
		}
	case []any:
		for _, e := range x {
			checkCanonical(t, e)
		}
	case taggedjson.Tuple:
		for _, e := range x {
			checkCanonical(t, e)
		}
	case map[string]any:
		for _, e := range x {
			checkCanonical(t, e)
		}
	}
}

// unsupportedStandIns are Go values that play the part of the Python values
// of the dumps-other vectors that Flask refuses.
var unsupportedStandIns = map[string]any{
	"dumps-other/set":             map[string]any{"s": make(chan int)},
	"dumps-other/object":          map[string]any{"o": func() {}},
	"dumps-other/mixed-key-types": map[string]any{"n": map[any]any{1: "a", "b": 2}},
}

func TestTaggedJSONVectors(t *testing.T) {
	f := loadVectors(t, "tagged_json")
	if len(f.Vectors) < 50 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				Value json.RawMessage `json:"value"`
				JSON  string          `json:"json"`
			}
			var res result
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			if err := v.Field("result", &res); err != nil {
				t.Fatal(err)
			}
			switch v.Kind {
			case "tagged.dumps":
				if in.Value == nil {
					checkDumpsOther(t, v.Name, res)
					return
				}
				checkDumps(t, &v, markers(t, in.Value), res)
			case "tagged.dumps.no_app_context":
				// Outside an app context Flask keeps insertion order; the
				// session is always written inside one, so Marshal sorts.
				got, err := taggedjson.Marshal(markers(t, in.Value))
				if err != nil || string(got) != `{"alpha":2,"zeta":1}` {
					t.Fatalf("Marshal = %s, %v", got, err)
				}
			case "tagged.loads":
				checkLoads(t, in.JSON, res)
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
	}
}

func checkDumps(t *testing.T, v *flaskvectors.Vector, value any, res result) {
	if !res.OK {
		t.Fatalf("unexpected error vector %+v", res.Error)
	}
	var want string
	if err := json.Unmarshal(res.Value, &want); err != nil {
		t.Fatal(err)
	}
	got, err := taggedjson.Marshal(value)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if string(got) != want {
		t.Fatalf("Marshal\n got %s\nwant %s", got, want)
	}
	// AppendMarshal writes the same bytes after a prefix.
	app, err := taggedjson.AppendMarshal([]byte("x"), value)
	if err != nil || string(app) != "x"+want {
		t.Fatalf("AppendMarshal = %q, %v", app, err)
	}
	if !v.Has("roundtrip") {
		return
	}
	var rt result
	if err := v.Field("roundtrip", &rt); err != nil {
		t.Fatal(err)
	}
	back, err := taggedjson.Unmarshal([]byte(want))
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", want, err)
	}
	checkCanonical(t, back)
	if d := flaskvectors.Diff(back, markers(t, rt.Value)); d != "" {
		t.Fatalf("Unmarshal(%s): %s", want, d)
	}
	// And our own re-encoding of what we read is Flask's text again.
	again, err := taggedjson.Marshal(back)
	if err != nil || string(again) != want {
		t.Fatalf("re-Marshal = %s, %v; want %s", again, err, want)
	}
}

func checkDumpsOther(t *testing.T, name string, res result) {
	if name == "dumps-other/date-not-datetime-becomes-plain-string" {
		// Go has no date-only type; a session that wants Flask's behaviour
		// stores the HTTP-date string itself.
		got, err := taggedjson.Marshal(map[string]any{"d": "Tue, 02 Jan 2024 00:00:00 GMT"})
		var want string
		_ = json.Unmarshal(res.Value, &want)
		if err != nil || string(got) != want {
			t.Fatalf("got %s, %v; want %s", got, err, want)
		}
		return
	}
	standIn, ok := unsupportedStandIns[name]
	if !ok {
		t.Fatalf("no Go stand-in for %s", name)
	}
	if res.OK {
		t.Fatalf("Flask accepted %s", name)
	}
	if _, err := taggedjson.Marshal(standIn); !errors.Is(err, taggedjson.ErrUnsupportedType) {
		t.Fatalf("Marshal(%T) error = %v, want ErrUnsupportedType", standIn, err)
	}
}

func checkLoads(t *testing.T, text string, res result) {
	got, err := taggedjson.Unmarshal([]byte(text))
	if !res.OK {
		if err == nil {
			t.Fatalf("Unmarshal(%s) = %s, want an error like Flask's %s: %s", text,
				flaskvectors.MarkersString(got), res.Error.Exception, res.Error.Message)
		}
		want := taggedjson.ErrInvalidTag
		if strings.HasPrefix(res.Error.Exception, "json.") {
			want = taggedjson.ErrSyntax
		}
		if !errors.Is(err, want) {
			t.Fatalf("Unmarshal(%s) error = %v, want %v (Flask: %s)", text, err, want, res.Error.Exception)
		}
		return
	}
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", text, err)
	}
	checkCanonical(t, got)
	if d := flaskvectors.Diff(got, markers(t, res.Value)); d != "" {
		t.Fatalf("Unmarshal(%s): %s", text, d)
	}
}

// TestSessionPayloadVectors decodes and re-encodes every session payload
// Flask wrote in the cookie and flash vectors.
func TestSessionPayloadVectors(t *testing.T) {
	n := 0
	for _, area := range []string{"flask_session_cookie", "flash"} {
		for _, v := range loadVectors(t, area).Vectors {
			for _, field := range []string{"payload_json", "payload_json_after"} {
				var payload *string
				if !v.Has(field) {
					continue
				}
				if err := v.Field(field, &payload); err != nil {
					t.Fatal(err)
				}
				if payload == nil {
					continue
				}
				n++
				checkPayload(t, area+"/"+v.Name+"/"+field, *payload)
				if field != "payload_json" || !v.Has("inputs") {
					continue
				}
				var in struct {
					Session json.RawMessage `json:"session_after_view"`
				}
				if err := v.Field("inputs", &in); err == nil && in.Session != nil {
					want := markers(t, in.Session)
					got, _ := taggedjson.Unmarshal([]byte(*payload))
					if d := flaskvectors.Diff(got, want); d != "" {
						t.Errorf("%s: %s", v.Name, d)
					}
					if b, err := taggedjson.Marshal(want); err != nil || string(b) != *payload {
						t.Errorf("%s: Marshal(session_after_view) = %s, %v; want %s", v.Name, b, err, *payload)
					}
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d payloads", n)
	}
}

func checkPayload(t *testing.T, name, payload string) {
	t.Helper()
	m, err := taggedjson.UnmarshalObject([]byte(payload))
	if err != nil {
		t.Errorf("%s: UnmarshalObject(%s): %v", name, payload, err)
		return
	}
	b, err := taggedjson.Marshal(m)
	if err != nil || string(b) != payload {
		t.Errorf("%s: re-encoded\n got %s, %v\nwant %s", name, b, err, payload)
	}
}

// TestSessionCookieVectors digs the payload out of every Flask session
// cookie in every vector file (Set-Cookie headers and request cookies) and
// checks that it decodes and re-encodes to the same bytes, except for the
// validly signed payloads that make Flask fail with HTTP 500, which must fail
// UnmarshalObject.
func TestSessionCookieVectors(t *testing.T) {
	seen := map[string]bool{}
	failing := 0
	for _, area := range []string{"flask_session_cookie", "flash", "flask_login", "flask_wtf_csrf", "flask_security_tf"} {
		for _, v := range loadVectors(t, area).Vectors {
			var resp struct {
				Status int `json:"status"`
			}
			_ = v.Field("response", &resp)
			flask500 := strings.HasPrefix(v.Name, "request/valid-signature-") && resp.Status == 500
			for _, raw := range v.Raw {
				var doc any
				if err := json.Unmarshal(raw, &doc); err != nil {
					t.Fatal(err)
				}
				walkStrings(doc, func(s string) {
					for _, cookie := range sessionCookieValues(s) {
						payload, ok := cookiePayload(cookie)
						if !ok {
							continue
						}
						if flask500 {
							failing++
							if m, err := taggedjson.UnmarshalObject([]byte(payload)); err == nil {
								t.Errorf("%s: UnmarshalObject(%s) = %v; Flask fails", v.Name, payload, m)
							}
							continue
						}
						if seen[payload] {
							continue
						}
						seen[payload] = true
						checkPayload(t, area+"/"+v.Name, payload)
					}
				})
			}
		}
	}
	if len(seen) < 40 || failing < 3 {
		t.Fatalf("only %d distinct payloads, %d failing ones", len(seen), failing)
	}
	t.Logf("%d distinct session payloads, %d that Flask rejects", len(seen), failing)
}

func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	case map[string]any:
		for k, e := range x {
			if k == "session" || k == "cookie" {
				if s, ok := e.(string); ok {
					f("session=" + s)
				}
			}
			walkStrings(e, f)
		}
	}
}

func sessionCookieValues(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "session="); ok && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// cookiePayload undoes itsdangerous' URLSafeTimedSerializer framing
// (without checking the signature): [.]base64url(json or zlib).TS.SIG.
func cookiePayload(v string) (string, bool) {
	compressed := strings.HasPrefix(v, ".")
	v = strings.TrimPrefix(v, ".")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	if compressed {
		r, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", false
		}
		if b, err = io.ReadAll(r); err != nil {
			return "", false
		}
	}
	return string(b), true
}
