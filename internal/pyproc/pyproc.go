// Package pyproc runs the Python interpreters seshat's tests check Flask
// compatibility against: it probes whether an interpreter can import the
// modules a test needs (skipping, or failing under SESHAT_REQUIRE_SERVICES=1,
// through internal/testenv when it cannot), starts a script as a server that
// prints its port on its first stdout line, and stops a started process by its
// PID only, never by name.
//
// Every test module of the repository imports it (they all live under
// github.com/seshat-go/seshat/), so one copy of this logic serves the interop,
// Flask-Session, two-factor, pickle and end-to-end tests.
package pyproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/testenv"
)

// probeTimeout bounds one import probe: a cold interpreter importing Flask
// on a loaded machine takes seconds, never this long.
const probeTimeout = 30 * time.Second

// Interpreter returns the interpreter named by the environment variable env,
// or def when env is unset or empty.
func Interpreter(env, def string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	return def
}

// Command returns a command running script under py with the test's
// environment plus extra ("KEY=value"), no .pyc files written into the
// repository, and unbuffered output, so the port line arrives at once.
func Command(py, script string, extra ...string) *exec.Cmd {
	cmd := exec.Command(py, script)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// Run runs `py -c code` in dir ("" = the current directory) and returns its
// combined output, trimmed, and the error of the run, if any.
func Run(ctx context.Context, py, dir, code string) (string, error) {
	cmd := exec.CommandContext(ctx, py, "-c", code)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// LastLine returns the last line of s, trimmed: the exception of a Python
// traceback.
func LastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// Require returns the output of `py -c code`, which typically imports the
// modules a test needs and prints a version. When py is not found or code
// fails, it calls testenv.Unavailable for service with the error and the
// output (t is skipped, or failed when services are required). The probe
// runs in an empty directory, so a json.py or flask.py next to the test
// cannot shadow the real module.
func Require(t testing.TB, service, py, code string) string {
	t.Helper()
	if _, err := exec.LookPath(py); err != nil {
		testenv.Unavailable(t, service, err)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	out, err := Run(ctx, py, t.TempDir(), code)
	if err != nil {
		testenv.Unavailable(t, service, fmt.Errorf("%v: %s", err, out))
		return ""
	}
	return out
}
