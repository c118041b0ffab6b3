package e2e

import "testing"

// bothStores runs f against the default demo (SQLite sessions) and a
// cookie-mode demo (-store cookie: no server state, revocation through the
// user's generation).
func bothStores(t *testing.T, f func(t *testing.T, d *demo)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, demos.get(t))
	})
	t.Run("cookie", func(t *testing.T) {
		t.Parallel()
		f(t, cookieDemos.get(t))
	})
}

// twoBrowsers signs up a new user and logs it in from two browsers: a, and
// other with remember me (whose token must end with its session).
func twoBrowsers(t *testing.T, d *demo, name string) (email string, a, other *tab) {
	t.Helper()
	email = uniqueEmail(name)
	a = newTab(t, "browser A", d.URL)
	other = newTab(t, "browser B", d.URL)
	a.signUp(email)
	a.logInFully(email, false)
	other.logInFully(email, true)
	return email, a, other
}

// TestPasswordChangeRevokesOtherSessions: changing the password keeps this
// browser logged in and logs out every other one, remember me included;
// only the new password works afterwards.
func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, d *demo) {
		email, a, other := twoBrowsers(t, d, "changer")

		const newPassword = "a much better passphrase"
		a.open("/settings")
		a.submit("[name=new_password]", map[string]string{"current_password": password, "new_password": newPassword})
		a.wantFlash("success", "Password changed")
		a.open("/")
		a.wantSignedIn(email)

		other.open("/")
		other.wantAnonymous()

		if p := other.logIn(email, false); p != "/login" {
			other.fatalf("the old password logged in (path %s)", p)
		}
		if got := other.texts("#flashes .flash-error"); len(got) == 0 {
			other.fatalf("no error flash after the old password")
		}
		if p := other.logInWith(email, newPassword, false); p != "/" {
			other.fatalf("the new password did not log in (path %s)", p)
		}
		other.wantSignedIn(email)
	})
}

// TestLogOutEverywhere: the button ends every other browser's login,
// remember me included, and keeps this one; in cookie mode too, where the
// server keeps no sessions to delete.
func TestLogOutEverywhere(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, d *demo) {
		email, a, other := twoBrowsers(t, d, "everywhere")

		a.open("/sessions")
		a.click("#logout-everywhere")
		a.open("/")
		a.wantSignedIn(email)
		other.open("/")
		other.wantAnonymous()
	})
}
