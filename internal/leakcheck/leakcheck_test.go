package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func block(ch chan struct{}) { <-ch }

// TestLeaked: a goroutine started here is found (with the function it
// runs), and is no longer reported once it has returned.
func TestLeaked(t *testing.T) {
	if l := Leaked(time.Second); len(l) != 0 {
		t.Fatalf("leaks before the test started: %q", l)
	}
	ch := make(chan struct{})
	go block(ch)
	l := Leaked(0)
	if len(l) != 1 || !strings.Contains(l[0], "created by github.com/seshat-go/seshat/internal/leakcheck.TestLeaked") {
		t.Fatalf("blocked goroutine not found: %q", l)
	}
	close(ch)
	if l := Leaked(10 * time.Second); len(l) != 0 {
		t.Fatalf("finished goroutine still reported: %q", l)
	}
}

func TestMain(m *testing.M) { VerifyTestMain(m) }
