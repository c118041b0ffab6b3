package pyproc

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/testenv"
)

// StartTimeout bounds how long a server may take to print its port.
const StartTimeout = 30 * time.Second

// stopGrace is how long Stop waits after closing stdin and SIGTERM before
// it sends SIGKILL.
const stopGrace = 5 * time.Second

// Process is a process a test started. Its stdin is a pipe that Stop closes
// (the test servers exit at end of file, so a test binary that dies leaves
// none behind).
type Process struct {
	// Stdin is the process's standard input.
	Stdin io.WriteCloser
	// Stdout is the process's standard output when the command had none set
	// (nil otherwise); ReadPort consumes it.
	Stdout io.ReadCloser

	cmd    *exec.Cmd
	stderr *testenv.Buffer
	waited chan struct{}
}

// Start starts cmd with pipes for stdin and, unless cmd.Stdout is set,
// stdout, and collects its stderr for Stderr unless cmd.Stderr is set. A
// goroutine waits for the process, so Stop leaves no zombie.
func Start(cmd *exec.Cmd) (*Process, error) {
	p := &Process{cmd: cmd, waited: make(chan struct{})}
	var err error
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if cmd.Stdout == nil {
		if p.Stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	if cmd.Stderr == nil {
		p.stderr = new(testenv.Buffer)
		cmd.Stderr = p.stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(p.waited)
	}()
	return p, nil
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stderr returns what the process wrote to stderr so far (Python's
// tracebacks), or "" when the command came with its own cmd.Stderr.
func (p *Process) Stderr() string {
	if p.stderr == nil {
		return ""
	}
	return p.stderr.String()
}

// Exited is closed when the process has exited and been waited for.
func (p *Process) Exited() <-chan struct{} { return p.waited }

// ReadPort waits up to timeout for the first line of Stdout, which must be
// a port number, and returns it; the rest of the output is discarded. On
// failure the error carries the process's stderr.
func (p *Process) ReadPort(timeout time.Duration) (string, error) {
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(p.Stdout)
		if sc.Scan() {
			port <- strings.TrimSpace(sc.Text())
		}
		close(port)
		_, _ = io.Copy(io.Discard, p.Stdout)
	}()
	select {
	case s, ok := <-port:
		if !ok {
			// Stdout ended: the process is exiting. Wait for it (a
			// moment at most), so its stderr, the traceback saying why,
			// has been copied in full.
			select {
			case <-p.waited:
			case <-time.After(stopGrace):
			}
		}
		if _, err := strconv.Atoi(s); !ok || err != nil {
			return "", fmt.Errorf("pid %d did not print its port (got %q); stderr:\n%s", p.PID(), s, p.Stderr())
		}
		return s, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("pid %d printed no port within %v; stderr:\n%s", p.PID(), timeout, p.Stderr())
	}
}

// Stop ends the process by its PID: it closes stdin, sends SIGTERM, and
// SIGKILL if the process is still there after a few seconds, then waits for
// it. os.Process never signals a PID that was already reaped, so Stop
// cannot hit an unrelated process; calling it twice is harmless.
func (p *Process) Stop() {
	_ = p.Stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
		return
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.waited
}

// Serve starts cmd, a server that prints its port on its first stdout line,
// and returns it with its base URL, http://127.0.0.1:PORT. It fails t when
// the server does not start; when t ends it stops the server and, if t
// failed, logs the server's stderr under name.
func Serve(t testing.TB, name string, cmd *exec.Cmd) (*Process, string) {
	t.Helper()
	p, err := Start(cmd)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s (pid %d) stderr:\n%s", name, p.PID(), p.Stderr())
		}
	})
	port, err := p.ReadPort(StartTimeout)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p, "http://127.0.0.1:" + port
}
