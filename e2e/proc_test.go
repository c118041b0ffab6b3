package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/pyproc"
)

// process is a server the tests started: the demo app or the Flask peer.
// It is stopped by its PID only (never by name), and what it printed is
// kept for the log of a failed test.
type process struct {
	name   string
	proc   *pyproc.Process
	output *os.File // stdout (but the ready line) and stderr; an *os.File is safe for both writers
}

// startTimeout bounds how long a server may take to print its ready line.
const startTimeout = 60 * time.Second

// startProcess starts cmd and waits for a stdout line matching ready,
// returning the line's first submatch (the server's URL or port). The
// process gets SIGKILL if the test binary dies first (see setParentDeath)
// and its stdin is a pipe closed at stop, for servers that exit on EOF.
func startProcess(name string, cmd *exec.Cmd, ready *regexp.Regexp) (*process, string, error) {
	out, err := os.CreateTemp("", "seshat-e2e-*.log")
	if err != nil {
		return nil, "", err
	}
	setParentDeath(cmd)
	found := make(chan string, 1)
	cmd.Stdout = &lineWatcher{ready: ready, found: found, rest: out}
	cmd.Stderr = out
	proc, err := pyproc.Start(cmd)
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, proc: proc, output: out}
	fail := func(format string, args ...any) (*process, string, error) {
		err := fmt.Errorf(format, args...)
		err = fmt.Errorf("%s (pid %d) %w; output:\n%s", name, proc.PID(), err, p.printed())
		p.stop()
		return nil, "", err
	}
	select {
	case v := <-found:
		return p, v, nil
	case <-proc.Exited():
		return fail("exited without printing a line matching %q", ready)
	case <-time.After(startTimeout):
		return fail("printed no line matching %q within %v", ready, startTimeout)
	}
}

// lineWatcher is a process's stdout: it looks for the ready line, sends its
// first submatch to found, and passes every other byte to rest.
type lineWatcher struct {
	ready *regexp.Regexp
	found chan<- string
	rest  io.Writer
	line  []byte
	seen  bool
}

func (w *lineWatcher) Write(b []byte) (int, error) {
	if w.seen {
		return w.rest.Write(b)
	}
	w.line = append(w.line, b...)
	for !w.seen {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		line := w.line[:i+1]
		if m := w.ready.FindSubmatch(line); m != nil {
			w.seen = true
			w.found <- string(m[1])
		} else if _, err := w.rest.Write(line); err != nil {
			return 0, err
		}
		w.line = w.line[i+1:]
	}
	if w.seen && len(w.line) > 0 {
		if _, err := w.rest.Write(w.line); err != nil {
			return 0, err
		}
		w.line = nil
	}
	return len(b), nil
}

// stop ends the process by its PID (see pyproc.Process.Stop) and removes
// its output file.
func (p *process) stop() {
	p.proc.Stop()
	p.output.Close()
	os.Remove(p.output.Name())
}

// printed returns what the process printed so far.
func (p *process) printed() string {
	b, err := os.ReadFile(p.output.Name())
	if err != nil {
		return fmt.Sprintf("(output lost: %v)", err)
	}
	return string(b)
}

// logOnFailure registers a cleanup that logs the process's output when t
// failed.
func (p *process) logOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s (pid %d) output so far:\n%s", p.name, p.proc.PID(), p.printed())
		}
	})
}
