package interop_test

// The session fingerprint that package sessionlog puts in Go's log lines can
// be computed by a Flask app sharing the cookie, with the formula in
// sessionlog's documentation, so both sides' logs can be joined.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/interop/internal/flaskproc"
)

// fingerprintPy opens the Go-issued cookie with Flask's own session
// interface and applies sessionlog's documented formula.
const fingerprintPy = `
import hmac, os
from flask import Flask, session
app = Flask(__name__)
app.secret_key = os.environ["FP_SECRET"]
key = os.environ["FP_KEY"].encode()
with app.test_request_context(headers={"Cookie": "session=" + os.environ["FP_COOKIE"]}):
    fp = hmac.new(key, b"user\x00" + session["_user_id"].encode(), "sha256").hexdigest()[:12]
    print(fp)
`

func TestFingerprintMatchesFlask(t *testing.T) {
	const secret = "interop-fingerprint-secret-0123456789abcdef"
	key := []byte("fingerprint-key-shared-by-go-and-flask")
	forEachFlavor(t, func(t *testing.T, f flaskproc.Flavor) {
		flaskproc.Require(t, f)
		sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte(secret)}})
		if err != nil {
			t.Fatal(err)
		}
		var goFP string
		rec := httptest.NewRecorder()
		sm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := seshat.FromContext(r.Context())
			s.Set("_user_id", "user-é-42")
			goFP = s.Fingerprint(key)
		})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		cookie, _, _ := strings.Cut(strings.TrimPrefix(rec.Header().Get("Set-Cookie"), "session="), ";")

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, f.Python(), "-c", fingerprintPy)
		cmd.Env = append(os.Environ(), "FP_SECRET="+secret, "FP_KEY="+string(key), "FP_COOKIE="+cookie)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", f.Python(), err, out)
		}
		if pyFP := strings.TrimSpace(string(out)); goFP == "" || pyFP != goFP {
			t.Fatalf("Go fingerprint %q, Flask %q", goFP, pyFP)
		}
	})
}
