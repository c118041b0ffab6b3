package bench

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

// flaskCheck drives flask/app.py with Flask's test client (no gunicorn
// needed) through the requests wrk sends, and prints what it got.
const flaskCheck = `
import flask
from app import app
c = app.test_client()
r = c.get("/login")
print("login", r.status_code, r.headers.get("X-Bench-Login"), "session=" in r.headers.get("Set-Cookie", ""))
print("read", repr(c.get("/read").get_data(as_text=True)))
print("write", repr(c.get("/write").get_data(as_text=True)))
print("read", repr(c.get("/read").get_data(as_text=True)))
print("untouched", repr(c.get("/untouched").get_data(as_text=True)))
c.delete_cookie("session")
print("anonymous", c.get("/read").status_code)
`

// TestFlaskApp checks that the Flask contender serves the same routes with
// the same session and bodies as bench/cmd/benchserver, with the Flask of
// python3 ($SESHAT_FLASK_PYTHON to choose another interpreter).
func TestFlaskApp(t *testing.T) {
	py := envOr("SESHAT_FLASK_PYTHON", "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-c", "import flask").CombinedOutput(); err != nil {
		testenv.Unavailable(t, py+" with Flask", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out))))
	}
	cmd := exec.CommandContext(ctx, py, "-c", flaskCheck)
	cmd.Dir = "flask"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	body := "user_id=42 csrf_token=3f786850e387550fdab836ed7e6dc881de23001b theme=%s cart=1,2,3\\n"
	want := strings.Join([]string{
		"login 200 1 True",
		"read '" + fmt.Sprintf(body, "dark") + "'",
		`write 'ok\n'`,
		"read '" + fmt.Sprintf(body, "light") + "'",
		`untouched 'ok\n'`,
		"anonymous 401",
	}, "\n") + "\n"
	if string(out) != want {
		t.Fatalf("Flask app answered\n%s\nwant\n%s", out, want)
	}
}
