package twofactor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/pyproc"
	"github.com/seshat-go/seshat/twofactor"
)

const debianPython = "/usr/bin/python3"

// TestFlaskSecurityKeyNames pins the session keys and values to
// Flask-Security-Too 5.1.2 (Debian's python3-flask-security,
// /usr/lib/python3/dist-packages/flask_security/): tf_plugin.py's tf_login
// stores session["tf_user_id"] and session["tf_remember_login"];
// twofactor.py's CodeTfPlugin.tf_login sets session["tf_state"] = "ready"
// for an enrolled user; views.py's two_factor_token_validation reads
// session["tf_primary_method"]; "authenticator" is its name for TOTP apps
// (SECURITY_TWO_FACTOR_ENABLED_METHODS) and "recovery_code" the rescue
// option of twofactor.py's set_rescue_options; tf_clean_session pops
// tf_state, tf_user_id, tf_primary_method, tf_remember_login,
// tf_totp_secret and tf_select.
func TestFlaskSecurityKeyNames(t *testing.T) {
	for got, want := range map[string]string{
		twofactor.KeyUserID:              "tf_user_id",
		twofactor.KeyState:               "tf_state",
		twofactor.KeyPrimaryMethod:       "tf_primary_method",
		twofactor.KeyRemember:            "tf_remember_login",
		twofactor.StateReady:             "ready",
		string(twofactor.MethodTOTP):     "authenticator",
		string(twofactor.MethodRecovery): "recovery_code",
	} {
		if got != want {
			t.Errorf("%q, Flask-Security-Too says %q", got, want)
		}
	}
}

// TestFlaskSecurityReadsPendingLogin runs Flask-Security-Too's own code
// on seshat's pending login: Debian's Flask decodes the cookie,
// tf_check_state(["ready"]) accepts it for the right user, and after its
// tf_clean_session (what its logout does) seshat finds nothing pending.
func TestFlaskSecurityReadsPendingLogin(t *testing.T) {
	requireFlaskSecurity(t)
	s := newServer(t, false, "/login")
	secret, _ := s.enrol(t, "alice")
	c := s.client(t)
	s.login(t, c, "alice", true)
	u := mustURL(t, s.srv.URL)

	out := runFlaskSecurity(t, sessionCookie(t, s, c))
	var got struct {
		Session    map[string]any `json:"session"`
		Check      *string        `json:"check"`
		AfterClean []string       `json:"after_clean"`
		SetCookie  string         `json:"set_cookie"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Session["tf_user_id"] != "alice" || got.Session["tf_state"] != "ready" ||
		got.Session["tf_primary_method"] != "authenticator" || got.Session["tf_remember_login"] != true {
		t.Fatalf("Flask sees %v", got.Session)
	}
	if got.Check == nil || *got.Check != "alice" {
		t.Fatalf("Flask-Security's tf_check_state(['ready']) found %v, want alice", got.Check)
	}
	// Only seshat's own key outlives Flask-Security's clean-up.
	if !slices.Equal(got.AfterClean, []string{twofactor.KeyStarted}) {
		t.Fatalf("after tf_clean_session: %v", got.AfterClean)
	}
	name, value, ok := strings.Cut(strings.SplitN(got.SetCookie, ";", 2)[0], "=")
	if !ok || name != "session" {
		t.Fatalf("Flask's Set-Cookie %q", got.SetCookie)
	}
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: value}})
	_, err := s.submit(t, c, s.code(t, secret))
	wantErr(t, err, twofactor.ErrNotPending)
	if k := tfKeys(s.session(t, c)); len(k) != 0 {
		t.Fatalf("tf_ keys left: %v", k)
	}
}

func requireFlaskSecurity(t *testing.T) {
	t.Helper()
	v := pyproc.Require(t, debianPython+" with flask_security (apt-get install python3-flask-security)",
		debianPython, "import flask_security; print(flask_security.__version__)")
	t.Logf("Flask-Security-Too %s", v)
}

func runFlaskSecurity(t *testing.T, cookie string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script, err := os.ReadFile("testdata/flask_security_check.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, debianPython, "-c", string(script))
	cmd.Dir = t.TempDir() // not a directory with a json.py or flask.py in it
	cmd.Env = append(os.Environ(), "SECRET="+sessionKey, "COOKIE="+cookie)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("flask_security_check.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return out
}
