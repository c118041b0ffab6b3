package e2e

import (
	"crypto/rand"
	"os"
	"testing"
)

// What the tests of this binary share, started on first use and stopped by
// TestMain: the demo binary, one Chromium, a default (SQLite) demo app and
// a cookie-mode one whose secret a Flask app can share (52 characters: the
// demo warns under 32 bytes).
var (
	builds      demoBuild
	browsers    browser
	demos       sharedDemo
	cookieDemos = sharedDemo{opt: demoOptions{Store: "cookie", Secret: rand.Text() + rand.Text()}}
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsers.close()
	demos.close()
	cookieDemos.close()
	builds.close()
	os.Exit(code)
}
