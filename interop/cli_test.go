package interop_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/interop/internal/flaskproc"
	"github.com/seshat-go/seshat/signing"
)

// buildCLI builds cmd/seshat into a temporary directory and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv(flaskproc.RequireEnv) == "1" {
			t.Fatalf("go tool not found: %v", err)
		}
		t.Skipf("go tool not found, cannot build cmd/seshat: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "seshat")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/seshat-go/seshat/cmd/seshat").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/seshat: %v\n%s", err, out)
	}
	return bin
}

// cliResult is one run of the seshat binary.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runBin runs the binary with the keys in SESHAT_KEYS (never on the command
// line) and stdin.
func runBin(t *testing.T, bin, keys, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SESHAT_KEYS="+keys)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// TestCLI (f): the seshat binary as a black box against real Flask. A cookie
// Flask made passes `seshat verify` and prints exactly Flask's dump; the
// output of `seshat sign` is read by Flask (and is Flask's own cookie byte
// for byte when uncompressed); the failure lines are the documented ones.
func TestCLI(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	forEachFlavor(t, func(t *testing.T, f flaskproc.Flavor) {
		ps := startPairs(t, f,
			flaskproc.Config{SecretKey: keyNew},
			flaskproc.Config{SecretKey: keyNew, Fallbacks: []string{keyOld}},
			flaskproc.Config{SecretKey: keyOld},
		)
		p, rotating, old := ps[0], ps[1], ps[2]
		for _, sc := range sessionCases {
			t.Run(sc.name, func(t *testing.T) {
				fw := p.flask.must(t, req{method: http.MethodPost, path: setPath(sc.permanent), body: sc.json, now: at(t0)})
				value := strings.TrimPrefix(fw.cookie(t), "session=")
				dump := p.flask.must(t, req{path: "/dump", cookie: "session=" + value, now: at(t0 + 60)}).body

				v := runBin(t, bin, keyNew, "", "verify", "--now", at(t0+60), value)
				if v.code != 0 || v.stdout != dump+"\n" || v.stderr != "" {
					t.Errorf("seshat verify of Flask's cookie: %+v\nFlask dumps %s", v, dump)
				}
				d := runBin(t, bin, "", "", "decode", value)
				if d.code != 0 || d.stdout != dump+"\n" || d.stderr != "seshat decode: signature not verified\n" {
					t.Errorf("seshat decode of Flask's cookie: %+v", d)
				}

				// sign what Flask dumped; Flask reads it back unchanged.
				s := runBin(t, bin, keyNew, dump, "sign", "--at", at(t0))
				if s.code != 0 || s.stderr != "" {
					t.Fatalf("seshat sign: %+v", s)
				}
				signed := strings.TrimSuffix(s.stdout, "\n")
				if !strings.HasPrefix(value, ".") && signed != value {
					t.Errorf("seshat sign made %s, Flask made %s", signed, value)
				}
				got := p.flask.must(t, req{path: "/dump", cookie: "session=" + signed, now: at(t0 + 60)}).body
				if got != dump {
					t.Errorf("Flask read seshat sign's cookie as %s, want %s", got, dump)
				}
			})
		}
		t.Run("failures", func(t *testing.T) {
			value := strings.TrimPrefix(p.flask.must(t, req{method: http.MethodPost, path: "/set", body: `{"user":"eve"}`, now: at(t0)}).cookie(t), "session=")
			// A valid signature over a payload that is not a session: Flask
			// answers 500, seshat verify says "malformed".
			ts, err := signing.NewTimestampSigner([][]byte{[]byte(keyNew)}, signing.Options{
				Salt: []byte("cookie-session"), KeyDerivation: signing.HMAC, Digest: signing.SHA1,
			})
			if err != nil {
				t.Fatal(err)
			}
			notSession := string(ts.SignAt(signing.AppendURLSafeBody(nil, []byte("[1,2]"), signing.CompressAuto), time.Unix(t0, 0)))
			if r := p.flask.do(t, req{path: "/dump", cookie: "session=" + notSession, now: at(t0)}); r.status != http.StatusInternalServerError {
				t.Errorf("Flask answered %d to a signed top-level list, want 500", r.status)
			}
			for _, c := range []struct {
				name, keys, value string
				args              []string
				stderr            string
			}{
				{"wrong key", keyOther, value, []string{"--now", at(t0)}, "seshat verify: bad signature\n"},
				{"tampered", keyNew, value[:len(value)-1] + "A", []string{"--now", at(t0)}, "seshat verify: bad signature\n"},
				{"expired", keyNew, value, []string{"--now", at(t0 + 31*86400 + 1)}, "seshat verify: expired\n"},
				{"max-age", keyNew, value, []string{"--now", at(t0 + 61), "--max-age", "60"}, "seshat verify: expired\n"},
				{"future", keyNew, value, []string{"--now", at(t0 - 1)}, "seshat verify: expired\n"},
				{"malformed", keyNew, notSession, []string{"--now", at(t0)}, "seshat verify: malformed\n"},
			} {
				r := runBin(t, bin, c.keys, "", append(append([]string{"verify"}, c.args...), c.value)...)
				if r.code != 1 || r.stdout != "" || r.stderr != c.stderr {
					t.Errorf("%s: %+v, want exit 1 and %q", c.name, r, c.stderr)
				}
			}
			if r := runBin(t, bin, keyNew, "", "verify", "--now", at(t0+31*86400), value); r.code != 0 {
				t.Errorf("verify at exactly 31 days: %+v", r)
			}
		})
		t.Run("rotation", func(t *testing.T) {
			// A cookie `seshat sign` makes with the old key: Flask 3.1 reads
			// it through SECRET_KEY_FALLBACKS, Flask 2.2 does not.
			s := runBin(t, bin, keyOld, `{"user":"frank"}`, "sign", "--at", at(t0))
			got := rotating.flask.must(t, req{path: "/dump", cookie: "session=" + strings.TrimSpace(s.stdout), now: at(t0 + 1)}).body
			want := `{"user":"frank"}`
			if !f.Is31() {
				want = "{}"
			}
			if got != want {
				t.Errorf("Flask with fallbacks read %s, want %s", got, want)
			}
			// seshat verify with both keys (oldest first) reads a cookie
			// Flask signed with the old key; with the new key alone it does not.
			value := strings.TrimPrefix(old.flask.must(t, req{method: http.MethodPost, path: "/set", body: `{"user":"grace"}`, now: at(t0)}).cookie(t), "session=")
			v := runBin(t, bin, keyOld+"\n"+keyNew+"\n", "", "verify", "--now", at(t0), value)
			if v.code != 0 || v.stdout != `{"user":"grace"}`+"\n" {
				t.Errorf("verify with [old,new]: %+v", v)
			}
			v = runBin(t, bin, keyNew, "", "verify", "--now", at(t0), value)
			if v.code != 1 || v.stderr != "seshat verify: bad signature\n" {
				t.Errorf("verify with [new]: %+v", v)
			}
		})
	})
}
