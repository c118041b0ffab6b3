// Package leakcheck finds goroutines that outlive the tests of a package,
// for the core module, which may import only the standard library (the
// store modules use go.uber.org/goleak instead). It reads the stacks of
// all goroutines and reports those that run, or were started by, seshat
// code.
package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// marker picks out goroutines seshat is responsible for: one of their
// frames, or the "created by" line, is in this module (tests included).
const marker = "github.com/seshat-go/seshat"

// Leaked returns the stacks of the goroutines, other than the caller's,
// that run or were started by seshat code, waiting up to wait for them to
// finish first (a Close may return before its goroutine has exited).
func Leaked(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		leaked := scan()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scan() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	// Goroutines are separated by blank lines; the first is the caller.
	// The test binary's main goroutine and the testing package's test
	// runners hold seshat frames (TestMain, the tests) but are not leaks.
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 || !bytes.Contains(g, []byte(marker)) ||
			bytes.Contains(g, []byte("\ntesting.tRunner(")) || bytes.Contains(g, []byte("\nmain.main()")) {
			continue
		}
		leaked = append(leaked, string(g))
	}
	return leaked
}

// VerifyTestMain runs the tests and then fails the run, printing their
// stacks, if seshat goroutines are still alive 5 s later. Use it as
//
//	func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := Leaked(5 * time.Second); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) outlived the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}
