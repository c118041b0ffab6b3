package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/seshat-go/seshat/twofactor"
	"github.com/seshat-go/seshat/twofactor/storetest"
)

var (
	secretRe   = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
	recoveryRe = regexp.MustCompile(`<li><code>([0-9a-z-]+)</code></li>`)
)

// code returns the TOTP code of secret d steps from now.
func code(t *testing.T, secret string, d int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(d)*twofactor.Period*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTwoFactorFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, ta *testApp) {
		b := ta.browser(t)
		b.signup("tf@example.org", "password1")
		b.login("tf@example.org", "password1", false)

		p := b.get("/settings/2fa")
		m := secretRe.FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(p.body, `<img id="totp-qr" src="/settings/2fa/qr.png"`) {
			t.Fatalf("enrolment page without secret or QR code:\n%s", p.body)
		}
		secret := m[1]
		if q := b.get("/settings/2fa/qr.png"); q.status != 200 || !strings.HasPrefix(q.body, "\x89PNG") {
			t.Fatalf("qr.png: status %d", q.status)
		}
		b.get("/settings/2fa") // a reload draws a new secret
		if m := secretRe.FindStringSubmatch(b.last); m == nil || m[1] == secret {
			t.Fatal("reloading the enrolment page kept the secret")
		}
		p = b.post("/settings/2fa", url.Values{"code": {code(t, secret, 0)}})
		if !p.hasFlash("error", "does not match") {
			t.Fatalf("the previous secret's code: flashes %q", p.flashes())
		}
		if m := secretRe.FindStringSubmatch(p.body); p.status != 422 || m == nil || m[1] == secret {
			t.Fatalf("a wrong code: status %d, the current secret not shown again", p.status)
		}
		secret = secretRe.FindStringSubmatch(p.body)[1]
		tok := csrfToken(t, p.body)
		if q := b.get("/settings/2fa/qr.png"); q.status != 200 {
			t.Fatalf("qr.png after a wrong code: status %d", q.status)
		}
		p = b.post("/settings/2fa", url.Values{"code": {code(t, secret, 0)}, "csrf_token": {tok}})
		if !p.hasFlash("success", "Two-factor authentication enabled") {
			t.Fatalf("enrol: flashes %q", p.flashes())
		}
		codes := recoveryRe.FindAllStringSubmatch(p.body, -1)
		if len(codes) != twofactor.DefaultRecoveryCodes || !strings.Contains(p.body, `id="recovery-codes"`) {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		var raw string
		if err := ta.users.db.QueryRow(`SELECT state FROM two_factor WHERE user_id = ?`,
			ta.currentID(t, "tf@example.org")).Scan(&raw); err != nil || strings.Contains(raw, secret) {
			t.Fatalf("stored two-factor state holds the secret in clear (or %v)", err)
		}
		if q := b.get("/settings/2fa/qr.png"); q.status != 404 {
			t.Fatalf("qr.png after enrolment: status %d, want 404", q.status)
		}

		// Log in again: the password alone logs nobody in.
		b.get("/")
		b.post("/logout", nil)
		p = b.login("tf@example.org", "password1", true)
		if p.url != "/login/2fa" || !strings.Contains(p.body, `name="code"`) {
			t.Fatalf("login of an enrolled user: at %s", p.url)
		}
		p.mustBe(t, "anonymous")
		if p := b.get("/settings"); p.url != "/login" {
			t.Fatalf("/settings with a pending login: at %s, want /login", p.url)
		}
		if b.cookie("remember_token") != "" {
			t.Fatal("remember cookie set before the second factor")
		}
		b.get("/login/2fa")
		if p := b.post("/login/2fa", url.Values{"code": {"000000"}}); p.status != 401 || !p.hasFlash("error", "not right") {
			t.Fatalf("wrong code: status %d, flashes %q", p.status, p.flashes())
		}
		// The enrolment used this step's code: the next step's is accepted
		// now (±1 step), and only once.
		next := code(t, secret, 1)
		p = b.post("/login/2fa", url.Values{"code": {next}})
		if p.url != "/" || !p.hasFlash("success", "Logged in") {
			t.Fatalf("right code: at %s, flashes %q", p.url, p.flashes())
		}
		p.mustBe(t, "tf@example.org")
		if b.cookie("remember_token") == "" {
			t.Fatal("remember me was lost across the second factor")
		}
		if !strings.Contains(b.get("/settings").body, `id="twofactor-status">on`) {
			t.Fatal("settings do not say two-factor is on")
		}

		// A replayed code is refused; a recovery code works once.
		c := ta.browser(t)
		c.login("tf@example.org", "password1", false)
		if p := c.post("/login/2fa", url.Values{"code": {next}}); !p.hasFlash("error", "already used") {
			t.Fatalf("replayed code: flashes %q", p.flashes())
		}
		rc := codes[0][1]
		p = c.post("/login/2fa", url.Values{"code": {strings.ToUpper(rc)}})
		if !p.hasFlash("success", "recovery code") || !p.hasFlash("success", "9 recovery codes left") {
			t.Fatalf("recovery code: flashes %q", p.flashes())
		}
		p.mustBe(t, "tf@example.org")
		d := ta.browser(t)
		d.login("tf@example.org", "password1", false)
		if p := d.post("/login/2fa", url.Values{"code": {rc}}); !p.hasFlash("error", "not right") {
			t.Fatalf("used recovery code: flashes %q", p.flashes())
		}
		d.get("/").mustBe(t, "anonymous")

		// Disabling asks for the password.
		if p := b.post("/settings/2fa/disable", url.Values{"password": {"nope"}}); !p.hasFlash("error", "Wrong password") {
			t.Fatalf("disable with a wrong password: flashes %q", p.flashes())
		}
		if p := b.post("/settings/2fa/disable", url.Values{"password": {"password1"}}); !p.hasFlash("info", "disabled") {
			t.Fatalf("disable: flashes %q", p.flashes())
		}
		e := ta.browser(t)
		e.login("tf@example.org", "password1", false).mustBe(t, "tf@example.org")
	})
}

func TestTwoFactorNoPending(t *testing.T) {
	ta := newTestApp(t, "")
	b := ta.browser(t)
	if p := b.get("/login/2fa"); p.url != "/login" || !p.hasFlash("info", "password first") {
		t.Fatalf("code form without a pending login: at %s, flashes %q", p.url, p.flashes())
	}
	if p := b.post("/login/2fa", url.Values{"code": {"123456"}}); p.url != "/login" {
		t.Fatalf("code without a pending login: at %s", p.url)
	}
}

// TestTwoFactorStore runs twofactor's conformance suite, atomicity included,
// on the users table.
func TestTwoFactorStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) twofactor.Store {
		users, err := openUsers(context.Background(), t.TempDir()+"/demo.db")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { users.Close() })
		return users.TwoFactor()
	})
}
