package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// step is one named part of a browser story; the story stops at the first
// step that fails, since each builds on the one before.
type step struct {
	name string
	run  func(t *testing.T)
}

func runSteps(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return
		}
	}
}

// TestAccountLifecycle is issue 6's story, in three browser contexts of
// one Chromium against one demo app: A signs up and logs in with remember
// me; B is A after a browser restart (only persistent cookies kept); C is a
// second browser that revokes B's session.
func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	d := demos.get(t)
	email := uniqueEmail("ada")
	a := newTab(t, "browser A", d.URL)
	var b, c *tab
	var secret string     // the TOTP secret enrolled
	var recovery []string // the recovery codes shown at enrolment

	runSteps(t, []step{
		{"sign_up_flashes", func(t *testing.T) {
			a := a.in(t)
			a.signUp(email)
			a.shot("login")
		}},
		{"log_in_with_remember_me", func(t *testing.T) {
			a := a.in(t)
			a.logInFully(email, true)
			a.shot("home")
		}},
		{"browser_restart_keeps_login", func(t *testing.T) {
			b = a.in(t).restart("browser B (A restarted)")
			b.open("/")
			b.wantSignedIn(email)
		}},
		{"enrol_2fa", func(t *testing.T) {
			b := b.in(t)
			b.open("/settings/2fa")
			b.waitFor(`(function(i){ return i && i.complete && i.naturalWidth > 0 })(document.querySelector("img#totp-qr"))`,
				"the QR code image to load")
			secret = b.text("#totp-secret")
			if secret == "" {
				b.fatalf("#totp-secret is empty")
			}
			b.shot("2fa-enrol")
			b.submit("[name=code]", map[string]string{"code": totpCode(t, secret, time.Now())})
			b.wantFlash("success", "Two-factor authentication enabled")
			recovery = b.texts("#recovery-codes li")
			if len(recovery) < 2 {
				b.fatalf("recovery codes %q: want at least 2", recovery)
			}
			b.wantSignedIn(email)
		}},
		{"log_out", func(t *testing.T) {
			b := b.in(t)
			b.logOut()
			b.wantLoginRequired("/settings")
		}},
		{"log_in_needs_the_code", func(t *testing.T) {
			b := b.in(t)
			b.passwordOnly(email)
			// Half logged in: no login-required page works yet.
			b.wantLoginRequired("/settings")
			b.passwordOnly(email)
			// The code of the next 30 s step (inside the ±1 step window): the
			// enrolment's code may not be replayed.
			b.secondFactor(email, totpCode(t, secret, time.Now().Add(30*time.Second)))
		}},
		{"second_browser_logs_in_with_recovery_code", func(t *testing.T) {
			c = openTab(t, a.owner, "browser C", d.URL)
			c.passwordOnly(email)
			c.secondFactor(email, recovery[0])
		}},
		{"second_browser_revokes_first", func(t *testing.T) {
			b, c := b.in(t), c.in(t)
			b.open("/sessions")
			own := b.attr(`tr.session-row[data-current="true"]`, "data-handle")
			if own == "" {
				b.fatalf("the current session row has no data-handle")
			}
			c.open("/sessions")
			rows := c.count("tr.session-row")
			if rows < 2 {
				c.fatalf("%d session rows, want at least 2 (B and C)", rows)
			}
			if n := c.count(`tr.session-row[data-current="true"]`); n != 1 {
				c.fatalf("%d rows marked current, want 1", n)
			}
			c.shot("sessions")
			row := `tr.session-row[data-handle="` + own + `"]`
			if c.count(row) != 1 {
				c.fatalf("no single session row for browser B (%s)", row)
			}
			c.click(row + " .revoke")
			c.open("/sessions")
			if got := c.count("tr.session-row"); got != rows-1 {
				c.fatalf("after revoking one session: %d rows, want %d", got, rows-1)
			}
			if n := c.count(row); n != 0 {
				c.fatalf("B's session still listed after its revocation")
			}
			c.wantSignedIn(email)
		}},
		{"first_browser_is_logged_out", func(t *testing.T) {
			b := b.in(t)
			b.open("/")
			b.wantAnonymous()
			b.wantLoginRequired("/sessions")
		}},
		{"recovery_code_works_once", func(t *testing.T) {
			b := b.in(t)
			b.passwordOnly(email)
			b.submit("[name=code]", map[string]string{"code": recovery[0]})
			if p := b.path(); p == "/" {
				b.fatalf("a used recovery code logged in again")
			}
			b.wantAnonymous()
			b.passwordOnly(email)
			b.secondFactor(email, recovery[1])
		}},
		{"form_without_csrf_token_gets_403", func(t *testing.T) {
			c := c.in(t)
			c.open("/")
			if status := c.submitWithoutCSRF(`form[action="/logout"]`, nil); status != http.StatusForbidden {
				c.fatalf("logout form without csrf_token: status %d, want 403", status)
			}
			if title := c.text("#error-title"); !strings.Contains(title, "CSRF") {
				c.fatalf("#error-title = %q, want it to mention CSRF", title)
			}
			c.open("/")
			c.wantSignedIn(email) // the refused logout did nothing
		}},
		{"log_out_everywhere", func(t *testing.T) {
			b, c := b.in(t), c.in(t)
			c.open("/sessions")
			if rows := c.count("tr.session-row"); rows < 2 {
				c.fatalf("%d session rows, want B's and C's", rows)
			}
			c.click("#logout-everywhere")
			c.open("/sessions")
			if rows := c.count("tr.session-row"); rows != 1 {
				c.fatalf("after log out everywhere: %d session rows, want only C's", rows)
			}
			c.wantSignedIn(email)
			b.open("/")
			b.wantAnonymous()
		}},
	})
}
