package pyproc

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// sh stands in for Python here: these tests check the process handling,
// not an interpreter, and must not skip where Python is missing.
func sh(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("no sh: %v", err)
	}
	return exec.Command("sh", "-c", script)
}

func TestServeReadsPortAndStopsAtCleanup(t *testing.T) {
	var p *Process
	t.Run("serve", func(t *testing.T) {
		var u string
		// A server: a traceback line, its port, more output, then it runs until
		// stdin closes.
		p, u = Serve(t, "sh server", sh(t, "echo oops >&2; echo 43210; echo more; cat >/dev/null"))
		if u != "http://127.0.0.1:43210" {
			t.Errorf("URL %q", u)
		}
		if p.PID() <= 0 {
			t.Errorf("PID %d", p.PID())
		}
	})
	select {
	case <-p.Exited():
	default:
		t.Fatal("the process still runs after the test that started it ended")
	}
	if got := p.Stderr(); got != "oops\n" {
		t.Errorf("stderr %q, want %q", got, "oops\n")
	}
	p.Stop() // a second Stop is harmless
}

func TestStopKillsAProcessIgnoringEOFAndTERM(t *testing.T) {
	t.Parallel() // it waits out the grace period
	p, err := Start(sh(t, `trap "" TERM; echo 1; while :; do sleep 1; done`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ReadPort(StartTimeout); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process was gone")
	}
}

func TestReadPortRejectsOtherOutput(t *testing.T) {
	for _, tc := range []struct{ script, got string }{
		{"echo not-a-port; cat >/dev/null", `"not-a-port"`},
		// Exits with a traceback and no output: the error carries stderr.
		{"echo traceback >&2; exit 1", "traceback"},
	} {
		p, err := Start(sh(t, tc.script))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.ReadPort(time.Minute)
		p.Stop()
		if err == nil || !strings.Contains(err.Error(), "did not print its port") || !strings.Contains(err.Error(), tc.got) {
			t.Errorf("%s: error %v, want one saying no port was printed, with %s", tc.script, err, tc.got)
		}
	}
}

func TestRunAndLastLine(t *testing.T) {
	out, err := Run(context.Background(), "sh", t.TempDir(), "echo one; echo two; exit 3")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("error %v, want exit status 3", err)
	}
	if out != "one\ntwo" || LastLine(out) != "two" {
		t.Errorf("output %q, last line %q", out, LastLine(out))
	}
	if LastLine("  single \n") != "single" {
		t.Errorf("LastLine of one line: %q", LastLine("  single \n"))
	}
}

func TestInterpreter(t *testing.T) {
	t.Setenv("PYPROC_TEST_PYTHON", "")
	if got := Interpreter("PYPROC_TEST_PYTHON", "/usr/bin/python3"); got != "/usr/bin/python3" {
		t.Errorf("unset: %q", got)
	}
	t.Setenv("PYPROC_TEST_PYTHON", "/opt/py")
	if got := Interpreter("PYPROC_TEST_PYTHON", "/usr/bin/python3"); got != "/opt/py" {
		t.Errorf("set: %q", got)
	}
}
