package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

const (
	sealKeyOld = "sealed-cookie-test-key-0-32-bytes!!"
	sealKey    = "sealed-cookie-test-key-1-32-bytes!!"
	sealName   = "app_session"
	sealT0     = int64(1_710_000_000)
)

// sealCookie has a real Manager with Config.EncryptCookie seal a session at
// sealT0 under keys (the last seals) and returns the cookie value.
func sealCookie(t *testing.T, keys ...string) string {
	t.Helper()
	var kb [][]byte
	for _, k := range keys {
		kb = append(kb, []byte(k))
	}
	m, err := seshat.New(seshat.Config{
		Keys: kb, EncryptCookie: true, Cookie: seshat.CookieOptions{Name: sealName},
		Now: func() time.Time { return time.Unix(sealT0, 0) }, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		_ = s.Set("user", "alice")
		_ = s.Set("cart", []int{1, 2, 3})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == sealName {
			return c.Value
		}
	}
	t.Fatal("no sealed cookie")
	return ""
}

func TestVerifySealed(t *testing.T) {
	sealed := sealCookie(t, sealKey)
	rotated := sealCookie(t, sealKeyOld, sealKey)
	oldOnly := sealCookie(t, sealKeyOld)
	// Change one character of the ciphertext for another base64url one, so
	// the value still decodes and only the seal can refuse it.
	tampered := []byte(sealed)
	if i := len(tampered) / 2; tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	at := func(d time.Duration) string { return strconv.FormatInt(sealT0+int64(d/time.Second), 10) }
	base := []string{"verify", "--sealed", "--key", sealKey, "--cookie-name", sealName}
	args := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	const want = `{"cart":[1,2,3],"user":"alice"}` + "\n"

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{name: "opens", args: args("--now", at(time.Hour), sealed), stdout: want},
		{name: "stdin", args: args("--now", at(time.Hour), "-"), stdin: sealed + "\n", stdout: want},
		{name: "older key verifies", args: []string{"verify", "--sealed", "--key", sealKeyOld, "--key", sealKey, "--cookie-name", sealName, "--now", at(0), oldOnly}, stdout: want},
		{name: "sealed with the newest of two keys", args: args("--now", at(0), rotated), stdout: want},
		{name: "wrong key", args: []string{"verify", "--sealed", "--key", sealKeyOld, "--cookie-name", sealName, "--now", at(0), sealed}, code: exitFail, stderr: verifyBadSig},
		{name: "wrong cookie name", args: []string{"verify", "--sealed", "--key", sealKey, "--cookie-name", "session", "--now", at(0), sealed}, code: exitFail, stderr: verifyBadSig},
		{name: "tampered", args: args("--now", at(0), string(tampered)), code: exitFail, stderr: verifyBadSig},
		{name: "a Flask signed cookie is not sealed", args: args("--now", flaskT0, flaskCookie), code: exitFail, stderr: verifyBadSig},
		{name: "empty", args: args("--now", at(0), "-"), stdin: "\n", code: exitFail, stderr: verifyBadSig},
		{name: "expired", args: args("--max-age", "60", "--now", at(time.Hour), sealed), code: exitFail, stderr: verifyExpired},
		{name: "from the future", args: args("--now", at(-time.Hour), sealed), code: exitFail, stderr: verifyExpired},
		{name: "max-age 0", args: args("--max-age", "0", "--now", at(0), sealed), code: exitUsage},
		{name: "cookie-name without sealed", args: []string{"verify", "--key", flaskKey, "--cookie-name", "x", flaskCookie}, code: exitUsage},
		{name: "no keys", args: []string{"verify", "--sealed", sealed}, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.stdin, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if tt.code == exitOK && r.stdout != tt.stdout {
				t.Fatalf("stdout %q, want %q", r.stdout, tt.stdout)
			}
			if tt.stderr != "" && r.stderr != tt.stderr {
				t.Fatalf("stderr %q, want %q", r.stderr, tt.stderr)
			}
			for _, k := range []string{sealKey, sealKeyOld} {
				if strings.Contains(r.stderr, k) || strings.Contains(r.stdout, k) {
					t.Fatal("a key appears in the output")
				}
			}
		})
	}
}
