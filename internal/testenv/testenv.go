// Package testenv holds the rule every seshat test that needs an outside
// service follows: when the service is unreachable the test skips with the
// reason, unless SESHAT_REQUIRE_SERVICES=1 (as CI sets it), when it fails.
package testenv

import (
	"net"
	"os"
	"testing"
	"time"
)

// Required reports whether SESHAT_REQUIRE_SERVICES=1 is set.
func Required() bool { return os.Getenv("SESHAT_REQUIRE_SERVICES") == "1" }

// Unavailable skips t (or fails it when services are required) because
// service cannot be used, for the reason err.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (SESHAT_REQUIRE_SERVICES=1) but unavailable: %v", service, err)
	}
	t.Skipf("%s unavailable, skipping: %v (set SESHAT_REQUIRE_SERVICES=1 to fail instead)", service, err)
}

// Dial checks that something listens on the TCP address addr, and calls
// Unavailable when not.
func Dial(t testing.TB, service, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Unavailable(t, service, err)
		return
	}
	c.Close()
}

// FreePort returns a loopback TCP port that was free a moment ago, for tests
// that start their own server.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
