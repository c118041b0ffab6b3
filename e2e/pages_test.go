package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestThemeSurvivesLogin: a theme chosen anonymously is kept in the session
// and is still there after sign-up and login renewed it (FlaskBB style).
func TestThemeSurvivesLogin(t *testing.T) {
	t.Parallel()
	d := demos.get(t)
	b := newTab(t, "browser", d.URL)
	b.open("/")
	b.wantAnonymous()
	b.submit("[name=theme]", map[string]string{"theme": "dark"})
	if got := b.attr("body", "data-theme"); got != "dark" {
		b.fatalf("after choosing dark: <body data-theme=%q>", got)
	}
	email := uniqueEmail("theme")
	b.signUp(email)
	b.logInFully(email, false)
	if got := b.attr("body", "data-theme"); got != "dark" {
		b.fatalf("after login: <body data-theme=%q>, want the anonymous choice dark", got)
	}
	b.submit("[name=theme]", map[string]string{"theme": "light"})
	if got := b.attr("body", "data-theme"); got != "light" {
		b.fatalf("after choosing light: <body data-theme=%q>", got)
	}
}

// TestLoginWithoutRememberEndsWithTheBrowser: without remember me, nothing
// the login set outlives the browser: the session cookie has no expiry.
func TestLoginWithoutRememberEndsWithTheBrowser(t *testing.T) {
	t.Parallel()
	d := demos.get(t)
	b := newTab(t, "browser", d.URL)
	email := uniqueEmail("forgetful")
	b.signUp(email)
	b.logInFully(email, false)
	for _, c := range b.cookies() {
		if !c.Session {
			b.fatalf("login without remember me set persistent cookie %s (expires %v)", c.Name, c.Expires)
		}
	}
}

// TestLivePage: /live shows values of the session over a websocket, the
// bump button changes one from the websocket's goroutine, and a reload shows
// the saved value (the default SQLite store; in cookie mode the demo cannot
// save from a websocket and says so).
func TestLivePage(t *testing.T) {
	t.Parallel()
	d := demos.get(t)
	b := newTab(t, "browser", d.URL)
	b.wantLoginRequired("/live")
	email := uniqueEmail("live")
	b.signUp(email)
	b.logInFully(email, false)
	b.openWithWebSocket("/live")
	b.waitFor(`document.querySelector("#live-status").textContent.includes("connected") && !document.querySelector("#live-bump").disabled`,
		"#live-status connected and #live-bump enabled")
	if got := b.text("#live-user"); !strings.Contains(got, email) {
		b.fatalf("#live-user = %q, want %s", got, email)
	}
	before := b.intText("#live-bumps")
	b.clickNoNav("#live-bump")
	want := strconv.Itoa(before + 1)
	b.waitFor(`document.querySelector("#live-bumps").textContent.trim() === `+jsString(want),
		"#live-bumps to reach "+want+" live")
	b.shot("live")
	b.openWithWebSocket("/live")
	if got := b.text("#live-bumps"); got != want {
		b.fatalf("after a reload #live-bumps = %s, want the saved %s", got, want)
	}
}
