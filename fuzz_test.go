package seshat_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/flaskvectors"
)

// FuzzLoadCookie feeds arbitrary Cookie headers to the middleware's cookie
// path: it must never panic, and anything it accepts must be a session that
// verifies and re-encodes.
func FuzzLoadCookie(f *testing.F) {
	now := time.Unix(1710000010, 0)
	m, err := seshat.New(seshat.Config{
		Keys:          [][]byte{[]byte("dev-secret-key-1")},
		AllowWeakKeys: true,
		Lifetime:      time.Hour,
		Now:           func() time.Time { return now },
	})
	if err != nil {
		f.Fatal(err)
	}
	addCookieSeeds(f, "flask_session_cookie")
	f.Add("session=.eJzLSM3JyVcozy_KSQEAGgQEXQ.ZeyHgA.x; session=")
	f.Add(strings.Repeat("a=b; ", 50) + "session=\"x.y.z\"")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		s, err := m.Load(r.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() > 0 {
			if s.LoadError() != nil {
				t.Fatal("values with a load error")
			}
			val, err := m.Codec().Encode(s.Values(), now)
			if err != nil {
				t.Fatalf("accepted session does not re-encode: %v", err)
			}
			if _, err := m.Codec().Decode(val, time.Hour, now); err != nil {
				t.Fatalf("re-encoded session does not verify: %v", err)
			}
		}
		rec := httptest.NewRecorder()
		s.Set("k", "v")
		if err := m.Save(r.Context(), rec, s); err != nil && s.Len() < 100 {
			t.Fatalf("save: %v", err)
		}
	})
}

// addCookieSeeds adds a Cookie header for every cookie value (produced or
// sent) in the named vector file.
func addCookieSeeds(f *testing.F, file string) {
	vf, err := flaskvectors.Load(file)
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vf.Vectors {
		var val string
		if v.Field("cookie_value", &val) == nil {
			f.Add("session=" + val)
		}
		var in struct{ Cookie *string }
		if v.Field("inputs", &in) == nil && in.Cookie != nil {
			f.Add("session=" + *in.Cookie)
		}
	}
}

// FuzzDecodeUnverified covers the debugging decoder used by the CLI.
func FuzzDecodeUnverified(f *testing.F) {
	f.Add("eyJ1c2VyIjoiYWxpY2UifQ.ZeyHgA.sig")
	f.Add(".eJyrVipIzCxSsqpWUihRsopWqlDSMYyt1VEqSiwHCyYpWSlVlpnYKgHFyjNS88CCKUDB4MQSHQUDSwXfxCIFIwMjEwVDMysDAyBScPcNUaqtBQBjMBfw.ZeyHgA.0zLeW_jbqLT1tmK-dnmYdrzxE9o")
	f.Fuzz(func(t *testing.T, v string) {
		_, _ = seshat.DecodeUnverified(v)
	})
}
