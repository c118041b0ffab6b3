package csrf

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seshat-go/seshat/internal/flaskvectors"
)

// FuzzCSRFToken: validating any token against any session secret never
// panics and never accepts a token that is not the secret's; a token minted
// for a secret validates, and any change of one of its bytes does not.
func FuzzCSRFToken(f *testing.F) {
	vf, err := flaskvectors.Load("flask_wtf_csrf")
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vf.Vectors {
		var in struct {
			Token   string `json:"token"`
			Session string `json:"session_csrf_token"`
		}
		_ = v.Field("inputs", &in)
		f.Add(in.Token, in.Session, "https://localhost/", uint16(0))
	}
	f.Add("", "", "", uint16(3))
	f.Add(".eJx.AAAA.BBBB", "x", "http://[::1]:80/", uint16(7))
	now := time.Unix(1730000000, 0)
	p, err := New([][]byte{[]byte("fuzz-key")}, Options{Now: func() time.Time { return now }, AllowWeakKeys: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token, secret, referrer string, flip uint16) {
		if !utf8.ValidString(secret) {
			t.Skip("a session holds text only")
		}
		s := testSession(t, map[string]any{DefaultFieldName: secret})
		if err := p.validate(token, s); err == nil {
			// Accepted: the token must carry exactly this secret.
			var raw any
			if err := p.ser.Loads(token, &raw); err != nil || raw != secret {
				t.Fatalf("accepted %q for secret %q (payload %v, %v)", token, secret, raw, err)
			}
		}
		// A masked token is accepted only when the token inside it is.
		if err := p.validate(unmask(token), s); err == nil && strings.HasPrefix(token, maskPrefix) {
			var raw any
			if err := p.ser.Loads(unmask(token), &raw); err != nil || raw != secret {
				t.Fatalf("masked %q accepted for secret %q", token, secret)
			}
		}
		_ = sameOrigin(referrer, "https://localhost/")
		good, err := p.Mint(secret, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.validate(good, s); err != nil {
			t.Fatalf("minted token refused: %v", err)
		}
		if m, err := p.mask(good); err != nil || p.validate(unmask(m), s) != nil {
			t.Fatalf("masked minted token refused: %v", err)
		}
		i := int(flip) % len(good)
		b := []byte(good)
		b[i] ^= 0x01
		if err := p.validate(string(b), s); err == nil {
			var raw any
			if p.ser.Loads(string(b), &raw) != nil || raw != secret {
				t.Fatalf("mutated token %q accepted", b)
			}
		}
	})
}
