package e2e

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// password is every test user's password.
const password = "correct horse battery staple"

// signUp creates an account on the page's app and checks the redirect to
// /login with the "Account created" flash.
func (b *tab) signUp(email string) {
	b.t.Helper()
	b.open("/signup")
	b.submit("[name=password]", map[string]string{"email": email, "password": password})
	b.wantPath("/login")
	b.wantFlash("success", "Account created")
	b.wantAnonymous()
}

// logIn posts the login form and returns the path the browser ends on:
// "/" when signed in, "/login/2fa" when the account has a second factor.
func (b *tab) logIn(email string, remember bool) string {
	b.t.Helper()
	return b.logInWith(email, password, remember)
}

// logInWith is logIn with another password.
func (b *tab) logInWith(email, pw string, remember bool) string {
	b.t.Helper()
	b.open("/login")
	fields := map[string]string{"email": email, "password": pw}
	if remember {
		fields["remember"] = "1"
	}
	b.submit("[name=password]", fields)
	return b.path()
}

// logInFully logs in an account without a second factor and checks the
// flash and #whoami.
func (b *tab) logInFully(email string, remember bool) {
	b.t.Helper()
	if p := b.logIn(email, remember); p != "/" {
		b.fatalf("after login: path %s, want /", p)
	}
	b.wantFlash("success", "Logged in")
	b.wantSignedIn(email)
}

// logOut posts the logout form and checks the flash and #whoami.
func (b *tab) logOut() {
	b.t.Helper()
	b.submit(`form[action="/logout"]`, nil)
	b.wantPath("/")
	b.wantFlash("info", "Logged out")
	b.wantAnonymous()
}

// passwordOnly logs in an account with a second factor and checks that
// the password alone leads to /login/2fa.
func (b *tab) passwordOnly(email string) {
	b.t.Helper()
	if p := b.logIn(email, false); p != "/login/2fa" {
		b.fatalf("after the password of a 2FA account: path %s, want /login/2fa", p)
	}
}

// secondFactor posts code on /login/2fa and checks the login succeeded.
func (b *tab) secondFactor(email, code string) {
	b.t.Helper()
	b.wantPath("/login/2fa")
	b.submit("[name=code]", map[string]string{"code": code})
	b.wantPath("/")
	b.wantFlash("success", "Logged in")
	b.wantSignedIn(email)
}

// wantLoginRequired fails unless path redirects an anonymous browser to
// /login.
func (b *tab) wantLoginRequired(path string) {
	b.t.Helper()
	b.open(path)
	if got := b.path(); got != "/login" {
		b.fatalf("GET %s as anonymous ended on %s, want a redirect to /login", path, got)
	}
}

// emails counts the addresses handed out per name in this test binary.
var emails sync.Map // name -> *atomic.Int64

// uniqueEmail gives each test its own account on the shared demo: name@
// example.com, then name-2@..., when a test runs again (-count) in the
// same binary. Short, so the screenshots stay readable.
func uniqueEmail(name string) string {
	v, _ := emails.LoadOrStore(name, new(atomic.Int64))
	if n := v.(*atomic.Int64).Add(1); n > 1 {
		return fmt.Sprintf("%s-%d@example.com", name, n)
	}
	return name + "@example.com"
}

// totpCode is the RFC 6238 code of secret (as the page shows it: base32,
// maybe grouped with spaces) at t.
func totpCode(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	secret = strings.Join(strings.Fields(secret), "")
	code, err := totp.GenerateCode(strings.ToUpper(secret), at)
	if err != nil {
		tb.Fatalf("TOTP code for secret %q: %v", secret, err)
	}
	return code
}
