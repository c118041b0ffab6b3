package interop_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/seshat-go/seshat/interop/internal/flaskproc"
)

// TestKeyRotation (c): Flask 3.1's SECRET_KEY_FALLBACKS against seshat's key
// list (old key first, new key last). Each side reads the other's cookie
// signed with the old key, and both re-sign with the new key only. Flask 2.2
// has no fallbacks (it ignores the setting): it rejects an old-key cookie, as
// seshat does with Keys = [new].
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	const body = `{"user":"carol","pair":{" t":["x",1]}}`
	forEachFlavor(t, func(t *testing.T, f flaskproc.Flavor) {
		ps := startPairs(t, f,
			flaskproc.Config{SecretKey: keyOld},                              // before the rotation
			flaskproc.Config{SecretKey: keyNew, Fallbacks: []string{keyOld}}, // during
		)
		before, during := ps[0], ps[1]
		newOnly := newGoServer(t, goConfig(flaskproc.Config{SecretKey: keyNew}))
		_, want := expected(t, body, false)
		const empty = "{}"
		set := req{method: http.MethodPost, path: "/set", body: body, now: at(t0)}

		// Old-key cookies from both sides: byte-identical.
		flaskOld := before.flask.must(t, set)
		goOld := before.gosrv.must(t, set)
		if !slices.Equal(flaskOld.setCookie, goOld.setCookie) {
			t.Fatalf("old-key cookies differ\nFlask:  %q\nseshat: %q", flaskOld.setCookie, goOld.setCookie)
		}
		oldCookie := flaskOld.cookie(t)
		read := req{path: "/dump", cookie: oldCookie, now: at(t0 + 10)}

		t.Run("seshat reads Flask's old-key cookie", func(t *testing.T) {
			if got := during.gosrv.must(t, read).body; got != want {
				t.Errorf("seshat [old,new] read %s, want %s", got, want)
			}
			if got := newOnly.must(t, read).body; got != empty {
				t.Errorf("seshat [new] read %s, want an empty session", got)
			}
		})
		t.Run("Flask reads seshat's old-key cookie", func(t *testing.T) {
			r := req{path: "/dump", cookie: goOld.cookie(t), now: at(t0 + 10)}
			got := during.flask.must(t, r).body
			switch {
			case f.Is31() && got != want:
				t.Errorf("Flask 3.1 with SECRET_KEY_FALLBACKS read %s, want %s", got, want)
			case !f.Is31() && got != empty:
				t.Errorf("Flask 2.2 (no fallbacks) read %s, want an empty session", got)
			}
		})
		t.Run("re-signed with the new key", func(t *testing.T) {
			// A write with the old cookie: Flask 3.1 and seshat [old,new]
			// keep the old values and sign with the new key only; Flask 2.2
			// starts from an empty session, as seshat [new] does.
			upd := req{method: http.MethodPost, path: "/set", body: `{"n":2}`, cookie: oldCookie, now: at(t0 + 20)}
			fr := during.flask.must(t, upd)
			var gr response
			if f.Is31() {
				gr = during.gosrv.must(t, upd)
			} else {
				gr = newOnly.must(t, upd)
			}
			if !slices.Equal(fr.setCookie, gr.setCookie) {
				t.Errorf("re-signed cookies differ\nFlask:  %q\nseshat: %q", fr.setCookie, gr.setCookie)
			}
			// Only the new key verifies the re-signed cookie.
			r := req{path: "/dump", cookie: gr.cookie(t), now: at(t0 + 30)}
			if got := newOnly.must(t, r).body; got == empty {
				t.Errorf("seshat [new] cannot read the re-signed cookie")
			}
			if got := before.flask.must(t, r).body; got != empty {
				t.Errorf("Flask with the old key alone read the re-signed cookie: %s", got)
			}
		})
		t.Run("noop does not re-sign", func(t *testing.T) {
			// Reading via a fallback key changes nothing by itself (Flask
			// re-signs only when it sends the cookie anyway).
			r := req{path: "/touch", cookie: oldCookie, now: at(t0 + 10)}
			for _, s := range []*server{during.flask, during.gosrv} {
				if got := s.must(t, r); len(got.setCookie) != 0 {
					t.Errorf("%s re-sent the cookie on a read: %q", s.name, got.setCookie)
				}
			}
		})
	})
}
