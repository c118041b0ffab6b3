// Package flaskproc runs interop/flaskapp/app.py, a real Flask app, as a
// subprocess for tests: it starts it under a chosen interpreter, reads the
// port the app bound on 127.0.0.1, and stops it by PID when the test binary
// is done with it (Pool.Close, from TestMain).
//
// When the interpreter or Flask is missing, or the interpreter's Flask is not
// the version a Flavor stands for, the test is skipped with the reason —
// unless the environment variable SESHAT_REQUIRE_SERVICES is "1", which turns
// the skip into a failure (for CI, where a silently skipped interop suite
// would prove nothing).
package flaskproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/pyproc"
)

// RequireEnv is the environment variable that turns skips into failures.
const RequireEnv = "SESHAT_REQUIRE_SERVICES"

// Flavor is one Flask installation to test against.
type Flavor struct {
	// Name names the flavor in test names: "flask3.1" or "flask2.2".
	Name string
	// PythonEnv is the environment variable that overrides the interpreter.
	PythonEnv string
	// DefaultPython is the interpreter used when PythonEnv is unset.
	DefaultPython string
	// VersionPrefix is what the interpreter's Flask version must start with.
	VersionPrefix string
}

// The two Flask versions of the test machine (and of the vectors).
var (
	// Flask31 is Flask 3.1 (pyenv's python3, Werkzeug 3.1, itsdangerous 2.2).
	Flask31 = Flavor{Name: "flask3.1", PythonEnv: "SESHAT_FLASK31_PYTHON", DefaultPython: "python3", VersionPrefix: "3.1."}
	// Flask22 is Debian 12's Flask 2.2 (/usr/bin/python3, Werkzeug 2.2,
	// itsdangerous 2.1).
	Flask22 = Flavor{Name: "flask2.2", PythonEnv: "SESHAT_FLASK22_PYTHON", DefaultPython: "/usr/bin/python3", VersionPrefix: "2.2."}
)

// Flavors lists every flavor, newest first.
var Flavors = []Flavor{Flask31, Flask22}

// Is31 reports whether f has Flask 3.1's behaviour (SECRET_KEY_FALLBACKS,
// SESSION_COOKIE_PARTITIONED, Vary on any session access, no cookie domain
// from SERVER_NAME).
func (f Flavor) Is31() bool { return strings.HasPrefix(f.VersionPrefix, "3.") }

// Python returns the interpreter the flavor runs.
func (f Flavor) Python() string { return pyproc.Interpreter(f.PythonEnv, f.DefaultPython) }

// Config is the Flask app's configuration; the zero value is Flask's default
// configuration with no secret key (Pool.Get requires SecretKey).
type Config struct {
	SecretKey  string        // SECRET_KEY
	Fallbacks  []string      // SECRET_KEY_FALLBACKS, oldest first (Flask >= 3.1)
	Lifetime   time.Duration // PERMANENT_SESSION_LIFETIME, whole seconds; 0 = 31 days
	CookieName string        // SESSION_COOKIE_NAME; "" = "session"
	Domain     string        // SESSION_COOKIE_DOMAIN
	Path       string        // SESSION_COOKIE_PATH
	Secure     bool          // SESSION_COOKIE_SECURE
	NoHTTPOnly bool          // SESSION_COOKIE_HTTPONLY = False
	SameSite   string        // SESSION_COOKIE_SAMESITE: "", "Lax", "Strict", "None"
	// Partitioned is SESSION_COOKIE_PARTITIONED (Flask >= 3.1).
	Partitioned bool
	NoRefresh   bool   // SESSION_REFRESH_EACH_REQUEST = False
	ServerName  string // SERVER_NAME
}

// env returns the app's configuration as FLASKAPP_* variables, so the keys
// never appear on a command line.
func (c Config) env() []string {
	e := []string{
		"FLASKAPP_SECRET_KEY=" + c.SecretKey,
		"FLASKAPP_SECRET_KEY_FALLBACKS=" + strings.Join(c.Fallbacks, "\n"),
		"FLASKAPP_COOKIE_NAME=" + c.CookieName,
		"FLASKAPP_COOKIE_DOMAIN=" + c.Domain,
		"FLASKAPP_COOKIE_PATH=" + c.Path,
		"FLASKAPP_COOKIE_SAMESITE=" + c.SameSite,
		"FLASKAPP_SERVER_NAME=" + c.ServerName,
		"FLASKAPP_COOKIE_SECURE=" + strconv.FormatBool(c.Secure),
		"FLASKAPP_COOKIE_HTTPONLY=" + strconv.FormatBool(!c.NoHTTPOnly),
		"FLASKAPP_COOKIE_PARTITIONED=" + strconv.FormatBool(c.Partitioned),
		"FLASKAPP_REFRESH=" + strconv.FormatBool(!c.NoRefresh),
		"FLASKAPP_QUIET=1",
	}
	lifetime := ""
	if c.Lifetime > 0 {
		lifetime = strconv.FormatInt(int64(c.Lifetime/time.Second), 10)
	}
	return append(e, "FLASKAPP_LIFETIME="+lifetime)
}

// App is a running Flask app.
type App struct {
	// URL is the app's base URL, http://127.0.0.1:PORT.
	URL string
	// PID is the process id of the interpreter.
	PID int
	// Versions holds the versions the app reports (python, flask, werkzeug,
	// itsdangerous, markupsafe).
	Versions map[string]string
	// Flavor is the flavor the app runs.
	Flavor Flavor

	proc *pyproc.Process
}

// Stderr returns what the app wrote to stderr so far (Flask's tracebacks).
func (a *App) Stderr() string { return a.proc.Stderr() }

// Pool shares apps between tests: each distinct (flavor, configuration) is
// started once, on first use, and runs until Close. Use one Pool per test
// binary and close it in TestMain. Sharing is safe: an app serves one request
// at a time and every request carries its own frozen clock. The zero Pool is
// ready to use.
type Pool struct {
	mu     sync.Mutex
	apps   map[string]*poolEntry
	closed bool
}

type poolEntry struct {
	once sync.Once
	app  *App
	err  error
}

// Get returns one running app per configuration under flavor f, starting the
// ones not running yet, all at once. It skips t (or fails it, see
// RequireEnv) when f is not available, and fails it when an app does not
// start or the pool is closed. When t fails, the apps' stderr is logged.
func (p *Pool) Get(t testing.TB, f Flavor, cfgs ...Config) []*App {
	t.Helper()
	Require(t, f)
	entries := make([]*poolEntry, len(cfgs))
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		t.Fatal("flaskproc: Get on a closed Pool")
	}
	if p.apps == nil {
		p.apps = make(map[string]*poolEntry)
	}
	for i, cfg := range cfgs {
		key := fmt.Sprintf("%s %#v", f.Name, cfg)
		if p.apps[key] == nil {
			p.apps[key] = new(poolEntry)
		}
		entries[i] = p.apps[key]
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Go(func() { e.once.Do(func() { e.app, e.err = start(f, cfgs[i]) }) })
	}
	wg.Wait()
	apps := make([]*App, len(cfgs))
	errs := make([]error, len(cfgs))
	for i, e := range entries {
		apps[i], errs[i] = e.app, e.err
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range apps {
				if s := a.Stderr(); s != "" {
					t.Logf("%s app (pid %d) stderr so far:\n%s", f.Name, a.PID, s)
				}
			}
		}
	})
	return apps
}

// Close stops every app the pool started, by PID, and waits for them.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	entries := p.apps
	p.apps = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range entries {
		if e.app != nil {
			wg.Go(e.app.proc.Stop)
		}
	}
	wg.Wait()
}

// probe is the result of checking a flavor's interpreter once per process.
type probe struct {
	once sync.Once
	err  error
}

var probes sync.Map // Flavor.Name -> *probe

// Require skips t (or fails it, see RequireEnv) unless f's interpreter runs
// and imports the expected Flask version.
func Require(t testing.TB, f Flavor) {
	t.Helper()
	pv, _ := probes.LoadOrStore(f.Name, new(probe))
	p := pv.(*probe)
	p.once.Do(func() { p.err = check(f) })
	if p.err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s unavailable and %s=1: %v", f.Name, RequireEnv, p.err)
	}
	t.Skipf("%s unavailable: %v (set %s=1 to make this a failure)", f.Name, p.err, RequireEnv)
}

func check(f Flavor) error {
	py := f.Python()
	path, err := exec.LookPath(py)
	if err != nil {
		return fmt.Errorf("interpreter %q not found (set %s): %w", py, f.PythonEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pyproc.StartTimeout)
	defer cancel()
	v, err := pyproc.Run(ctx, path, "",
		"import flask, werkzeug.serving, itsdangerous, importlib.metadata as m; print(m.version('flask'))")
	if err != nil {
		return fmt.Errorf("%s cannot import Flask: %v: %s", py, err, pyproc.LastLine(v))
	}
	if !strings.HasPrefix(v, f.VersionPrefix) {
		return fmt.Errorf("%s has Flask %s, want %sx (set %s)", py, v, f.VersionPrefix, f.PythonEnv)
	}
	if _, err := os.Stat(appPath()); err != nil {
		return fmt.Errorf("flask app: %w", err)
	}
	return nil
}

// appPath returns the path of interop/flaskapp/app.py, found from this
// source file so tests may run from any directory.
func appPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "flaskapp", "app.py")
}

func start(f Flavor, cfg Config) (*App, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("flaskproc: Config.SecretKey is required")
	}
	proc, err := pyproc.Start(pyproc.Command(f.Python(), appPath(), cfg.env()...))
	if err != nil {
		return nil, err
	}
	a := &App{Flavor: f, PID: proc.PID(), proc: proc}
	port, err := proc.ReadPort(pyproc.StartTimeout)
	if err != nil {
		proc.Stop()
		return nil, fmt.Errorf("flask app: %w", err)
	}
	a.URL = "http://127.0.0.1:" + port
	if err := a.loadVersions(cfg.ServerName); err != nil {
		a.proc.Stop()
		return nil, err
	}
	if got := a.Versions["flask"]; !strings.HasPrefix(got, f.VersionPrefix) {
		a.proc.Stop()
		return nil, fmt.Errorf("flask app reports Flask %s, want %sx", got, f.VersionPrefix)
	}
	return a, nil
}

// loadVersions asks the app for its versions; host is the Host header to
// send, needed when SERVER_NAME is set (Flask 2.2 routes only that host).
func (a *App) loadVersions(host string) error {
	req, err := http.NewRequest(http.MethodGet, a.URL+"/versions", nil)
	if err != nil {
		return err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("flask app: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("flask app: %w", err)
	}
	if err := json.Unmarshal(body, &a.Versions); err != nil {
		return fmt.Errorf("flask app: /versions: %w", err)
	}
	return nil
}
