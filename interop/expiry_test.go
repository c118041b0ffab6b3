package interop_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/interop/internal/flaskproc"
)

// TestExpiry (d): both sides apply the lifetime to every cookie, permanent or
// not: a cookie is accepted up to exactly the lifetime (itsdangerous: age ==
// max_age passes; the age is in whole seconds of the current time) and
// rejected one second later, and a timestamp in the future is rejected. A
// rejected cookie gives an empty session and no Set-Cookie on both sides.
func TestExpiry(t *testing.T) {
	t.Parallel()
	const body = `{"user":"dave"}`
	forEachFlavor(t, func(t *testing.T, f flaskproc.Flavor) {
		ps := startPairs(t, f,
			flaskproc.Config{SecretKey: keyNew, Lifetime: time.Hour},
			flaskproc.Config{SecretKey: keyNew}, // Flask's default 31 days
		)
		for _, p := range ps {
			life := p.cfg.Lifetime
			if life == 0 {
				life = seshat.DefaultLifetime
			}
			L := int64(life / time.Second)
			for _, permanent := range []bool{false, true} {
				name := fmt.Sprintf("lifetime=%ds/permanent=%v", L, permanent)
				t.Run(name, func(t *testing.T) {
					set := req{method: http.MethodPost, path: setPath(permanent), body: body, now: at(t0)}
					fw, gw := p.flask.must(t, set), p.gosrv.must(t, set)
					if !slices.Equal(fw.setCookie, gw.setCookie) {
						t.Fatalf("cookies differ\nFlask:  %q\nseshat: %q", fw.setCookie, gw.setCookie)
					}
					ck := fw.cookie(t)
					_, want := expected(t, body, permanent)
					for _, c := range []struct {
						now    string
						accept bool
					}{
						{at(t0), true},
						{at(t0 + L - 1), true},
						{at(t0 + L), true},
						{fmt.Sprintf("%d.999", t0+L), true}, // still age L in whole seconds
						{at(t0 + L + 1), false},
						{at(t0 + 10*L), false},
						{at(t0 - 1), false},                // one second in the future
						{fmt.Sprintf("%d.5", t0-1), false}, // half a second in the future: age -1
					} {
						r := req{path: "/dump", cookie: ck, now: c.now}
						wantBody := "{}"
						if c.accept {
							wantBody = want
						}
						fr, gr := p.flask.must(t, r), p.gosrv.must(t, r)
						for _, got := range []struct {
							name string
							response
						}{{p.flask.name, fr}, {p.gosrv.name, gr}} {
							if got.body != wantBody {
								t.Errorf("%s at now=%s (signed %d, lifetime %d): read %s, want %s", got.name, c.now, t0, L, got.body, wantBody)
							}
							// A permanent session that loads is refreshed;
							// nothing else sets a cookie.
							if want := permanent && c.accept; (len(got.setCookie) == 1) != want || len(got.setCookie) > 1 {
								t.Errorf("%s at now=%s: Set-Cookie %q, want one: %v", got.name, c.now, got.setCookie, want)
							}
						}
						if !slices.Equal(fr.setCookie, gr.setCookie) {
							t.Errorf("at now=%s Set-Cookie differs\nFlask:  %q\nseshat: %q", c.now, fr.setCookie, gr.setCookie)
						}
						// An expired permanent cookie is not refreshed either.
						if permanent && !c.accept {
							noop := req{path: "/noop", cookie: ck, now: c.now}
							for _, s := range p.sides() {
								if got := s.must(t, noop); len(got.setCookie) != 0 || len(got.vary) != 0 {
									t.Errorf("%s noop with an expired permanent cookie: Set-Cookie %q Vary %q", s.name, got.setCookie, got.vary)
								}
							}
						}
					}
				})
			}
			// The brief's form: a cookie signed at now-lifetime-1 is empty on
			// both sides, one signed at now-lifetime is not.
			t.Run(fmt.Sprintf("lifetime=%ds/signed-in-the-past", L), func(t *testing.T) {
				for _, c := range []struct {
					signed int64
					accept bool
				}{{t0 - L - 1, false}, {t0 - L, true}} {
					set := req{method: http.MethodPost, path: "/set", body: body, now: at(c.signed)}
					for _, writer := range p.sides() {
						ck := writer.must(t, set).cookie(t)
						for _, reader := range p.sides() {
							got := reader.must(t, req{path: "/dump", cookie: ck, now: at(t0)}).body
							if (got != "{}") != c.accept {
								t.Errorf("%s read %s's cookie signed at now-%d: %s (accept=%v)", reader.name, writer.name, t0-c.signed, got, c.accept)
							}
						}
					}
				}
			})
		}
	})
}
