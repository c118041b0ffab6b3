package csrf

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/flaskvectors"
)

// session returns a request session holding the given values.
func testSession(t *testing.T, values map[string]any) *seshat.Session {
	t.Helper()
	m, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("unrelated-session-key-0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Load(context.Background(), httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var reasons = map[string]error{
	"The CSRF token is missing.":         ErrTokenMissing,
	"The CSRF session token is missing.": ErrSessionTokenMissing,
	"The CSRF token has expired.":        ErrTokenExpired,
	"The CSRF token is invalid.":         ErrTokenInvalid,
	"The CSRF tokens do not match.":      ErrTokensDoNotMatch,
}

func TestValidateAndMintVectors(t *testing.T) {
	f, err := flaskvectors.Load("flask_wtf_csrf")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range f.Vectors {
		if v.Kind != "csrf.validate" && v.Kind != "csrf.generate" {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			var in struct {
				SecretKey  string   `json:"secret_key"`
				SigningKey string   `json:"signing_key"`
				Raw        string   `json:"raw"`
				Token      string   `json:"token"`
				Session    *string  `json:"session_csrf_token"`
				Now        int64    `json:"now"`
				TimeLimit  *float64 `json:"time_limit"`
				Urandom    string   `json:"urandom_64_bytes_hex"`
			}
			if err := v.Field("inputs", &in); err != nil {
				t.Fatal(err)
			}
			key := in.SecretKey
			if key == "" {
				key = in.SigningKey
			}
			opts := Options{Now: func() time.Time { return time.Unix(in.Now, 0) }}
			if v.Kind == "csrf.validate" {
				opts.TimeLimit = -1
				if in.TimeLimit != nil {
					opts.TimeLimit = time.Duration(*in.TimeLimit) * time.Second
				}
			}
			if in.Urandom != "" {
				b, err := hex.DecodeString(in.Urandom)
				if err != nil {
					t.Fatal(err)
				}
				opts.Rand = bytes.NewReader(b)
			}
			opts.AllowWeakKeys = true // Flask-WTF's test keys are short
			p, err := New([][]byte{[]byte(key)}, opts)
			if err != nil {
				t.Fatal(err)
			}
			switch v.Kind {
			case "csrf.generate":
				var want string
				v.Field("token", &want)
				var got string
				if in.Raw != "" {
					got, err = p.Mint(in.Raw, time.Unix(in.Now, 0))
				} else {
					s := testSession(t, nil)
					got, err = p.token(s)
					var raw string
					v.Field("session_csrf_token", &raw)
					if sv, _ := s.Get(DefaultFieldName); sv != raw {
						t.Errorf("session secret %v, want %s", sv, raw)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("token\n got %s\nwant %s", got, want)
				}
			case "csrf.validate":
				vals := map[string]any{}
				if in.Session != nil {
					vals[DefaultFieldName] = *in.Session
				}
				var res struct {
					OK      bool   `json:"ok"`
					Message string `json:"message"`
				}
				v.Field("result", &res)
				err := p.validate(in.Token, testSession(t, vals))
				switch {
				case res.OK && err != nil:
					t.Errorf("refused: %v", err)
				case !res.OK && !errors.Is(err, reasons[res.Message]):
					t.Errorf("got %v, want %q", err, res.Message)
				case !res.OK && err.Error() != res.Message:
					t.Errorf("message %q, want %q", err.Error(), res.Message)
				}
			}
		})
	}
	if n != 12 {
		t.Errorf("ran %d generate/validate vectors, want 12", n)
	}
}

func TestRandomFailure(t *testing.T) {
	p, err := New([][]byte{[]byte("k")}, Options{Rand: bytes.NewReader(make([]byte, 10)), AllowWeakKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	s := testSession(t, nil)
	if _, err := p.token(s); err == nil {
		t.Fatal("short random source: no error")
	}
	if s.Has(DefaultFieldName) {
		t.Error("secret stored despite the failure")
	}
}
