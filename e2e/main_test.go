package e2e

import (
	"os"
	"testing"
)

// What the tests of this binary share, started on first use and stopped by
// TestMain: the demo binary, one Chromium, one default demo app.
var (
	builds   demoBuild
	browsers browser
	demos    sharedDemo
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsers.close()
	demos.close()
	builds.close()
	os.Exit(code)
}
