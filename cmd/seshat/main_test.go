package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// result is what one in-process run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process with stdin and the environment env.
func runCLI(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// Values from the Flask vectors (write/default/set, request/* of
// flask_session_cookie.json): Flask 3.1 and 2.2 made these bytes.
const (
	flaskKey     = "dev-secret-key-1"
	flaskOldKey  = "dev-secret-key-0"
	flaskT0      = "1710000000"
	flaskPayload = `{"cart":[1,2,3],"n":7,"user":"alice"}`
	flaskCookie  = "eyJjYXJ0IjpbMSwyLDNdLCJuIjo3LCJ1c2VyIjoiYWxpY2UifQ.ZeyHgA.jty9mBYQUNixzO8FQerLUX8DCz4"
	// flaskOldCookie is the same session signed with flaskOldKey.
	flaskOldCookie = "eyJjYXJ0IjpbMSwyLDNdLCJuIjo3LCJ1c2VyIjoiYWxpY2UifQ.ZeyHgA.O2RH1vB4EaojjP_t79cbbzSLMEU"
	// Validly signed (flaskKey, T0) cookies whose payload does not decode.
	badJSONCookie  = "eyJ1c2VyIjo.ZeyHgA.YJJIZ4dHEp8y_TxMJfRhUk83YVs"
	badTagCookie   = "eyIgdCI6NX0.ZeyHgA.3T_aQaaWZemuQinIP-vlimdtk_Y"
	topListCookie  = "WzEsMl0.ZeyHgA.oW-3K7refJ4wWgqYwlP7Ze8TMQw"
	taggedCookie   = ".eJyrVipIzCxSsqpWUihRsopWqlDSMYyt1VEqSiwHCyYpWSlVlpnYKgHFyjNS88CCKUDB4MQSHQUDSwXfxCIFIwMjEwVDMysDAyBScPcNUaqtBQBjMBfw.ZeyHgA.0zLeW_jbqLT1tmK-dnmYdrzxE9o"
	taggedPayload  = `{"pair":{" t":["x",1]},"raw":{" b":"yv4="},"when":{" d":"Sat, 09 Mar 2024 16:00:00 GMT"}}`
	verifyExpired  = "seshat verify: expired\n"
	verifyBadSig   = "seshat verify: bad signature\n"
	verifyBadData  = "seshat verify: malformed\n"
	decodeNotice   = "seshat decode: signature not verified\n"
	decodeBadValue = "seshat decode: malformed\n"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestRun(t *testing.T) {
	keyFile := writeFile(t, "\n"+flaskOldKey+"\n\n  \n"+flaskKey+"\n")
	crlfFile := writeFile(t, flaskOldKey+"\r\n"+flaskKey+"\r\n")
	emptyFile := writeFile(t, "\n\n")
	missingFile := filepath.Join(t.TempDir(), "missing")
	envKeys := map[string]string{"SESHAT_KEYS": flaskOldKey + "\n" + flaskKey + "\n"}
	tenDays := "1710864000" // T0 + 10 days

	tests := []struct {
		name   string
		args   []string
		stdin  string
		env    map[string]string
		code   int
		stdout string // exact, unless stdoutHas is set
		stderr string // exact, unless stderrHas is set
		// stdoutHas and stderrHas, when set, replace the exact checks with
		// substring checks.
		stdoutHas, stderrHas string
	}{
		// sign
		{name: "sign", args: []string{"sign", "--key", flaskKey, "--at", flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign sorts keys", args: []string{"sign", "--key", flaskKey, "--at", flaskT0}, stdin: `{"user":"alice","cart":[1,2,3],"n":7}`, stdout: flaskCookie + "\n"},
		{name: "sign single dash flags", args: []string{"sign", "-key", flaskKey, "-at=" + flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign with the last key", args: []string{"sign", "--key", flaskOldKey, "--key", flaskKey, "--at", flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign old key", args: []string{"sign", "--key", flaskOldKey, "--at", flaskT0}, stdin: flaskPayload, stdout: flaskOldCookie + "\n"},
		{name: "sign key file", args: []string{"sign", "--key-file", keyFile, "--at", flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign key file CRLF", args: []string{"sign", "--key-file", crlfFile, "--at", flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign env keys", args: []string{"sign", "--at", flaskT0}, env: envKeys, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign flags win over env", args: []string{"sign", "--key", flaskOldKey, "--at", flaskT0}, env: envKeys, stdin: flaskPayload, stdout: flaskOldCookie + "\n"},
		{name: "sign explicit default salt", args: []string{"sign", "--key", flaskKey, "--salt", "cookie-session", "--at", flaskT0}, stdin: flaskPayload, stdout: flaskCookie + "\n"},
		{name: "sign no key", args: []string{"sign", "--at", flaskT0}, stdin: flaskPayload, code: 2, stderrHas: "seshat sign: no key: give --key, --key-file or SESHAT_KEYS\n"},
		{name: "sign empty env keys", args: []string{"sign"}, env: map[string]string{"SESHAT_KEYS": "\n\n"}, stdin: flaskPayload, code: 2, stderrHas: "seshat sign: no key"},
		{name: "sign key and key file", args: []string{"sign", "--key", flaskKey, "--key-file", keyFile}, stdin: flaskPayload, code: 2, stderrHas: "seshat sign: give keys with --key or with --key-file, not both\n"},
		{name: "sign key file twice", args: []string{"sign", "--key-file", keyFile, "--key-file", keyFile}, stdin: flaskPayload, code: 2, stderrHas: "--key-file given more than once"},
		{name: "sign empty key", args: []string{"sign", "--key", ""}, stdin: flaskPayload, code: 2, stderrHas: "empty key"},
		{name: "sign missing key file", args: []string{"sign", "--key-file", missingFile}, stdin: flaskPayload, code: 2, stderrHas: "seshat sign: key file: open " + missingFile},
		{name: "sign empty key file", args: []string{"sign", "--key-file", emptyFile}, stdin: flaskPayload, code: 2, stderrHas: "holds no key"},
		{name: "sign negative at", args: []string{"sign", "--key", flaskKey, "--at", "-1"}, stdin: flaskPayload, code: 2, stderrHas: "want whole non-negative Unix seconds"},
		{name: "sign fractional at", args: []string{"sign", "--key", flaskKey, "--at", "1.5"}, stdin: flaskPayload, code: 2, stderrHas: "want whole non-negative Unix seconds"},
		{name: "sign unknown flag", args: []string{"sign", "--key", flaskKey, "--bogus"}, stdin: flaskPayload, code: 2, stderrHas: "flag provided but not defined: -bogus"},
		{name: "sign positional", args: []string{"sign", "--key", flaskKey, "payload.json"}, stdin: flaskPayload, code: 2, stderrHas: "unexpected argument"},
		{name: "sign bad json", args: []string{"sign", "--key", flaskKey}, stdin: `{"user":`, code: 1, stderrHas: "seshat sign: malformed payload: "},
		{name: "sign empty stdin", args: []string{"sign", "--key", flaskKey}, stdin: "", code: 1, stderrHas: "seshat sign: malformed payload: "},
		{name: "sign top-level list", args: []string{"sign", "--key", flaskKey}, stdin: `[1,2]`, code: 1, stderrHas: "seshat sign: malformed payload: "},
		{name: "sign help", args: []string{"sign", "-h"}, stdoutHas: "usage: seshat sign "},

		// verify
		{name: "verify", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify flags after value", args: []string{"verify", flaskCookie, "--key", flaskKey, "--now", flaskT0}, stdout: flaskPayload + "\n"},
		{name: "verify double dash", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, "--", flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify value on stdin", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, "-"}, stdin: flaskCookie + "\n", stdout: flaskPayload + "\n"},
		{name: "verify any key", args: []string{"verify", "--key", flaskOldKey, "--key", flaskKey, "--now", flaskT0, flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify old key first in list", args: []string{"verify", "--key", flaskOldKey, "--key", flaskKey, "--now", flaskT0, flaskOldCookie}, stdout: flaskPayload + "\n"},
		{name: "verify key file", args: []string{"verify", "--key-file", keyFile, "--now", flaskT0, flaskOldCookie}, stdout: flaskPayload + "\n"},
		{name: "verify env keys", args: []string{"verify", "--now", flaskT0, flaskOldCookie}, env: envKeys, stdout: flaskPayload + "\n"},
		{name: "verify compressed tagged", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, taggedCookie}, stdout: taggedPayload + "\n"},
		{name: "verify wrong key", args: []string{"verify", "--key", flaskOldKey, "--now", flaskT0, flaskCookie}, code: 1, stderr: verifyBadSig},
		{name: "verify other salt", args: []string{"verify", "--key", flaskKey, "--salt", "other", "--now", flaskT0, flaskCookie}, code: 1, stderr: verifyBadSig},
		{name: "verify tampered", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, flaskCookie[:len(flaskCookie)-2] + "AA"}, code: 1, stderr: verifyBadSig},
		{name: "verify garbage", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, "not-a-cookie"}, code: 1, stderr: verifyBadSig},
		{name: "verify empty value", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, ""}, code: 1, stderr: verifyBadSig},
		{name: "verify no timestamp", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, "eyJ1c2VyIjoiYWxpY2UifQ"}, code: 1, stderr: verifyBadSig},
		{name: "verify at exactly max age", args: []string{"verify", "--key", flaskKey, "--max-age", "3600", "--now", "1710003600", flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify one second past max age", args: []string{"verify", "--key", flaskKey, "--max-age", "3600", "--now", "1710003601", flaskCookie}, code: 1, stderr: verifyExpired},
		{name: "verify future timestamp", args: []string{"verify", "--key", flaskKey, "--now", "1709999999", flaskCookie}, code: 1, stderr: verifyExpired},
		{name: "verify default max age is 31 days", args: []string{"verify", "--key", flaskKey, "--now", "1712678400", flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify default max age exceeded", args: []string{"verify", "--key", flaskKey, "--now", "1712678401", flaskCookie}, code: 1, stderr: verifyExpired},
		{name: "verify max age zero", args: []string{"verify", "--key", flaskKey, "--max-age", "0", "--now", flaskT0, flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify real clock", args: []string{"verify", "--key", flaskKey, flaskCookie}, code: 1, stderr: verifyExpired},
		{name: "verify real clock no age limit", args: []string{"verify", "--key", flaskKey, "--max-age", "4000000000", flaskCookie}, stdout: flaskPayload + "\n"},
		{name: "verify bad json", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, badJSONCookie}, code: 1, stderr: verifyBadData},
		{name: "verify bad tag", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, badTagCookie}, code: 1, stderr: verifyBadData},
		{name: "verify top-level list", args: []string{"verify", "--key", flaskKey, "--now", flaskT0, topListCookie}, code: 1, stderr: verifyBadData},
		{name: "verify expired beats malformed", args: []string{"verify", "--key", flaskKey, "--now", tenDays, "--max-age", "60", badJSONCookie}, code: 1, stderr: verifyExpired},
		{name: "verify no value", args: []string{"verify", "--key", flaskKey}, code: 2, stderrHas: "want exactly one VALUE, got 0 arguments"},
		{name: "verify two values", args: []string{"verify", "--key", flaskKey, flaskCookie, flaskCookie}, code: 2, stderrHas: "want exactly one VALUE, got 2 arguments"},
		{name: "verify negative max age", args: []string{"verify", "--key", flaskKey, "--max-age", "-1", flaskCookie}, code: 2, stderrHas: "--max-age must not be negative"},
		{name: "verify bad max age", args: []string{"verify", "--key", flaskKey, "--max-age", "1h", flaskCookie}, code: 2, stderrHas: `invalid value "1h" for flag -max-age`},
		{name: "verify bad now", args: []string{"verify", "--key", flaskKey, "--now", "yesterday", flaskCookie}, code: 2, stderrHas: "want whole non-negative Unix seconds"},
		{name: "verify no key", args: []string{"verify", flaskCookie}, code: 2, stderrHas: "seshat verify: no key"},
		{name: "verify help", args: []string{"verify", "--help"}, stdoutHas: "seshat verify: bad signature"},

		// decode
		{name: "decode", args: []string{"decode", flaskCookie}, stdout: flaskPayload + "\n", stderr: decodeNotice},
		{name: "decode expired and foreign", args: []string{"decode", flaskOldCookie}, stdout: flaskPayload + "\n", stderr: decodeNotice},
		{name: "decode compressed", args: []string{"decode", taggedCookie}, stdout: taggedPayload + "\n", stderr: decodeNotice},
		{name: "decode stdin", args: []string{"decode", "-"}, stdin: " " + flaskCookie + "\r\n", stdout: flaskPayload + "\n", stderr: decodeNotice},
		{name: "decode garbage", args: []string{"decode", "not-a-cookie"}, code: 1, stderr: decodeBadValue},
		{name: "decode bad json", args: []string{"decode", badJSONCookie}, code: 1, stderr: decodeBadValue},
		{name: "decode no value", args: []string{"decode"}, code: 2, stderrHas: "seshat decode: want exactly one VALUE"},
		{name: "decode takes no keys", args: []string{"decode", "--key", flaskKey, flaskCookie}, code: 2, stderrHas: "flag provided but not defined: -key"},

		// top level
		{name: "no command", args: nil, code: 2, stderrHas: "seshat: no command given"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrHas: `seshat: unknown command "frobnicate"`},
		{name: "help", args: []string{"help"}, stdoutHas: "  verify   verify a Flask cookie value"},
		{name: "-h", args: []string{"-h"}, stdoutHas: "usage: seshat COMMAND"},
		{name: "--help", args: []string{"--help"}, stdoutHas: "usage: seshat COMMAND"},
		{name: "help sign", args: []string{"help", "sign"}, stdoutHas: "usage: seshat sign [key options]"},
		{name: "help decode", args: []string{"help", "decode"}, stdoutHas: "usage: seshat decode VALUE"},
		{name: "help unknown", args: []string{"help", "nope"}, code: 2, stderrHas: `seshat help: unknown command "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.stdin, tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d (stderr %q)", r.code, tc.code, r.stderr)
			}
			if tc.stdoutHas != "" {
				if !strings.Contains(r.stdout, tc.stdoutHas) {
					t.Errorf("stdout %q does not contain %q", r.stdout, tc.stdoutHas)
				}
			} else if r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			if tc.stderrHas != "" {
				if !strings.Contains(r.stderr, tc.stderrHas) {
					t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderrHas)
				}
			} else if r.stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
			if tc.code == 1 && strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("a failure must print exactly one line on stderr, got %q", r.stderr)
			}
			if tc.code == 2 && !strings.Contains(r.stderr, "usage: seshat") {
				t.Errorf("a usage error must show the usage, got %q", r.stderr)
			}
			for _, k := range []string{flaskKey, flaskOldKey} {
				if strings.Contains(r.stdout+r.stderr, k) {
					t.Errorf("output contains a key: stdout %q stderr %q", r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestSignVerifyRoundTrip signs every tagged type and reads it back.
func TestSignVerifyRoundTrip(t *testing.T) {
	keys := map[string]string{"SESHAT_KEYS": "round-trip-key-0\nround-trip-key-1"}
	payloads := []string{
		`{}`,
		`{"user":"alice"}`,
		`{"_permanent":true,"n":-9007199254740993,"f":1.5,"big":123456789012345678901234567890}`,
		`{"t":{" t":[1,"x",null,true]},"b":{" b":"AAEC/w=="},"m":{" m":"<b>hi</b>"},"u":{" u":"12345678123456781234567812345678"},"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}}`,
		`{"esc":{" di":{" t__":"not a tuple"}},"nested":[[],{},{"a":[{" t":[]}]}]}`,
		`{"text":"h\u00e9llo \ud83d\ude00 \u2028"}`,
		// Long and repetitive: itsdangerous compresses it.
		`{"blob":"` + strings.Repeat("abc", 300) + `"}`,
	}
	for _, p := range payloads {
		signed := runCLI(t, p, keys, "sign", "--at", flaskT0)
		if signed.code != 0 || signed.stderr != "" {
			t.Fatalf("sign %s: status %d, stderr %q", p, signed.code, signed.stderr)
		}
		value := strings.TrimSuffix(signed.stdout, "\n")
		if strings.Contains(value, "\n") || value == "" {
			t.Fatalf("sign %s: output %q is not one line", p, signed.stdout)
		}
		if strings.HasPrefix(p, `{"blob"`) && !strings.HasPrefix(value, ".") {
			t.Errorf("sign %s: %q is not compressed", p, value)
		}
		verified := runCLI(t, "", keys, "verify", "--now", flaskT0, value)
		if verified.code != 0 || verified.stderr != "" {
			t.Fatalf("verify %s: status %d, stderr %q", value, verified.code, verified.stderr)
		}
		// Marshal again what was signed: verify prints Flask's canonical form.
		again := runCLI(t, verified.stdout, keys, "sign", "--at", flaskT0)
		if again.stdout != signed.stdout {
			t.Errorf("sign(verify(sign(p))) = %q, want %q", again.stdout, signed.stdout)
		}
		decoded := runCLI(t, "", nil, "decode", value)
		if decoded.stdout != verified.stdout {
			t.Errorf("decode %q, verify %q", decoded.stdout, verified.stdout)
		}
	}
	// Without --at the current time signs, and verify's real clock accepts it.
	signed := runCLI(t, `{"now":1}`, keys, "sign")
	verified := runCLI(t, "", keys, "verify", strings.TrimSpace(signed.stdout))
	if verified.code != 0 || verified.stdout != `{"now":1}`+"\n" {
		t.Errorf("sign/verify at the real time: %+v", verified)
	}
	// The last key signs: the first key alone does not verify it.
	onlyOld := runCLI(t, "", map[string]string{"SESHAT_KEYS": "round-trip-key-0"}, "verify", strings.TrimSpace(signed.stdout))
	if onlyOld.code != 1 || onlyOld.stderr != verifyBadSig {
		t.Errorf("verify with the older key only: %+v", onlyOld)
	}
}
