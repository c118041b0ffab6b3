package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// repoRoot is the seshat checkout: the tests run in e2e/.
const repoRoot = ".."

// demoDir returns the demo app's module directory: SESHAT_DEMO_DIR (to
// test another checkout's demo), else ../cmd/seshat-demo.
func demoDir() string {
	if d := os.Getenv("SESHAT_DEMO_DIR"); d != "" {
		return d
	}
	return filepath.Join(repoRoot, "cmd", "seshat-demo")
}

// readyLine is what the demo prints once it accepts connections.
var readyLine = regexp.MustCompile(`seshat-demo listening on (http://\S+)`)

// demoBuild builds cmd/seshat-demo once per test binary into a temporary
// directory that TestMain removes.
type demoBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func (b *demoBuild) get(t testing.TB) string {
	t.Helper()
	dir := demoDir()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		// Not a missing service: the app itself is not in this tree yet.
		t.Skipf("%s does not exist yet: nothing to test", dir)
	}
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "seshat-e2e-")
		if b.err != nil {
			return
		}
		bin := filepath.Join(b.dir, "seshat-demo")
		abs, err := filepath.Abs(dir)
		if err != nil {
			b.err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/seshat-demo: %w\n%s", err, out)
			return
		}
		b.bin = bin
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

func (b *demoBuild) close() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// demoOptions choose how the demo runs.
type demoOptions struct {
	Store  string // -store; "" = the embedded SQLite default
	Secret string // SESHAT_DEMO_SECRET; "" = the demo's own random key
}

// demo is a running demo app.
type demo struct {
	URL    string // http://127.0.0.1:PORT
	Data   string // its -data directory (demo.db lives there)
	Secret string // the signing key it was given, if any
	proc   *process
}

// sharedDemo is one demo app per configuration and test binary, started on
// first use and stopped (by PID) by TestMain; each test signs up its own
// user, so the tests share it safely.
type sharedDemo struct {
	opt  demoOptions
	once sync.Once
	d    *demo
	err  error
}

func (s *sharedDemo) get(t testing.TB) *demo {
	t.Helper()
	bin := builds.get(t)
	s.once.Do(func() { s.d, s.err = launchDemo(bin, s.opt) })
	if s.err != nil {
		t.Fatal(s.err)
	}
	s.d.proc.logOnFailure(t)
	return s.d
}

func (s *sharedDemo) close() {
	if s.d != nil {
		s.d.proc.stop()
		os.RemoveAll(s.d.Data)
	}
}

// launchDemo starts the demo binary on 127.0.0.1:0 with a new data
// directory.
func launchDemo(bin string, opt demoOptions) (*demo, error) {
	data, err := os.MkdirTemp("", "seshat-e2e-data-")
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", "127.0.0.1:0", "-data", data}
	if opt.Store != "" {
		args = append(args, "-store", opt.Store)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	if opt.Secret != "" {
		// The environment, not the command line: ps shows arguments.
		cmd.Env = append(cmd.Env, "SESHAT_DEMO_SECRET="+opt.Secret)
	}
	p, url, err := startProcess("seshat-demo -store "+opt.Store, cmd, readyLine)
	if err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	return &demo{URL: url, Data: data, Secret: opt.Secret, proc: p}, nil
}
