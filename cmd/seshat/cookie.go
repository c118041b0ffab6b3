package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
	"github.com/seshat-go/seshat/taggedjson"
)

// The reasons verify prints, one per line, prefixed by "seshat verify: ".
// They are part of the command's interface: keep them stable.
const (
	reasonBadSignature = "bad signature"
	reasonExpired      = "expired"
	reasonMalformed    = "malformed"
)

// defaultMaxAge is Flask's PERMANENT_SESSION_LIFETIME default, in seconds.
const defaultMaxAge = int64(seshat.DefaultLifetime / time.Second)

var signCmd = &command{
	name:    "sign",
	summary: "sign a session (tagged JSON on stdin) into a Flask cookie value",
	usage: `usage: seshat sign [key options] [--salt S] [--at UNIX] < PAYLOAD

Reads a session in Flask's tagged-JSON form on stdin, for example
  {"user":"alice","pair":{" t":[1,2]}}
and prints the Flask session cookie value for it, signed with the LAST key.

  --salt S        signer salt (default "cookie-session", Flask's)
  --at UNIX       timestamp to sign with, in Unix seconds (default now)

` + keyOptionsHelp,
	run: runSign,
}

var verifyCmd = &command{
	name:    "verify",
	summary: "verify a Flask cookie value and print its session",
	usage: `usage: seshat verify [key options] [--salt S] [--max-age SECONDS] [--now UNIX] VALUE
       seshat verify --sealed [key options] [--cookie-name NAME] [--max-age SECONDS] [--now UNIX] VALUE

Checks VALUE's signature with every key and its age, then prints the session
as Flask's compact tagged JSON. VALUE "-" reads the value from stdin.
With --sealed, VALUE is a cookie a seshat Manager sealed (Config.EncryptCookie:
AES-256-GCM, not Flask's format): it is opened with every key instead, and
--cookie-name must be the cookie's name, which the seal binds.
On failure it exits 1 and prints one line on stderr:
  seshat verify: bad signature    no key made this signature, or not a token
  seshat verify: expired          older than --max-age, or from the future
  seshat verify: malformed        signature good, payload does not decode

  --salt S        signer salt (default "cookie-session", Flask's)
  --max-age N     maximum age in seconds (default 2678400, Flask's 31 days)
  --now UNIX      the current time in Unix seconds (default the real clock)
  --sealed        VALUE is sealed (Config.EncryptCookie), not signed
  --cookie-name NAME  with --sealed, the session cookie's name (default "session")

` + keyOptionsHelp,
	run: runVerify,
}

var decodeCmd = &command{
	name:    "decode",
	summary: "print the session in a cookie value WITHOUT verifying it",
	usage: `usage: seshat decode VALUE

Prints the session inside VALUE as Flask's compact tagged JSON without
checking its signature or age (debugging only: never trust the output).
VALUE "-" reads the value from stdin. Exits 1 with
"seshat decode: malformed" when the value does not decode.
`,
	run: runDecode,
}

// unixFlag is a flag holding a non-negative Unix time in seconds.
type unixFlag struct {
	t   time.Time
	set bool
}

func (f *unixFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatInt(f.t.Unix(), 10)
}

func (f *unixFlag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want whole non-negative Unix seconds, got %q", s)
	}
	f.t, f.set = time.Unix(n, 0), true
	return nil
}

// orNow returns the flag's time, or the real clock when it was not given.
func (f *unixFlag) orNow() time.Time {
	if f.set {
		return f.t
	}
	return time.Now()
}

func runSign(c *cli, cmd *command, args []string) int {
	fs := newFlagSet(cmd.name)
	var (
		ko   keyOptions
		salt string
		at   unixFlag
	)
	ko.register(fs)
	fs.StringVar(&salt, "salt", seshat.DefaultSalt, "")
	fs.Var(&at, "at", "")
	pos, status, ok := parse(c, cmd, fs, args)
	if !ok {
		return status
	}
	if len(pos) > 0 {
		return usageError(c, cmd, "unexpected argument %q (the payload is read from stdin)", pos[0])
	}
	codec, status, ok := newCodec(c, cmd, &ko, salt)
	if !ok {
		return status
	}
	payload, err := io.ReadAll(io.LimitReader(c.stdin, maxInput+1))
	if err != nil {
		return usageError(c, cmd, "read payload: %v", err)
	}
	if len(payload) > maxInput {
		return fail(c, cmd, fmt.Sprintf("payload exceeds %d bytes", maxInput))
	}
	values, err := taggedjson.UnmarshalObject(payload)
	if err != nil {
		return fail(c, cmd, "malformed payload: "+err.Error())
	}
	value, err := codec.Encode(values, at.orNow())
	if err != nil {
		return fail(c, cmd, err.Error())
	}
	fmt.Fprintln(c.stdout, value)
	return exitOK
}

func runVerify(c *cli, cmd *command, args []string) int {
	fs := newFlagSet(cmd.name)
	var (
		ko     keyOptions
		salt   string
		maxAge int64
		now    unixFlag
		sealed bool
		name   string
	)
	ko.register(fs)
	fs.StringVar(&salt, "salt", seshat.DefaultSalt, "")
	fs.Int64Var(&maxAge, "max-age", defaultMaxAge, "")
	fs.Var(&now, "now", "")
	fs.BoolVar(&sealed, "sealed", false, "")
	fs.StringVar(&name, "cookie-name", "", "")
	pos, status, ok := parse(c, cmd, fs, args)
	if !ok {
		return status
	}
	if len(pos) != 1 {
		return usageError(c, cmd, "want exactly one VALUE, got %d arguments", len(pos))
	}
	if maxAge < 0 {
		return usageError(c, cmd, "--max-age must not be negative")
	}
	if sealed {
		return verifySealed(c, cmd, &ko, name, maxAge, now, pos[0])
	}
	if name != "" {
		return usageError(c, cmd, "--cookie-name goes with --sealed (a signed cookie does not bind its name)")
	}
	codec, status, ok := newCodec(c, cmd, &ko, salt)
	if !ok {
		return status
	}
	value, err := readValue(c, pos[0])
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	values, err := codec.Decode(value, time.Duration(maxAge)*time.Second, now.orNow())
	if err != nil {
		return fail(c, cmd, verifyReason(err))
	}
	return printSession(c, cmd, values)
}

// verifyReason names why a cookie was rejected, from the signing sentinels.
// SignatureExpired is a BadSignature too, so it is tested first; BadPayload
// is not a BadSignature (a good signature over an undecodable payload).
func verifyReason(err error) string {
	switch {
	case errors.Is(err, signing.ErrSignatureExpired):
		return reasonExpired
	case errors.Is(err, signing.ErrBadPayload):
		return reasonMalformed
	case errors.Is(err, signing.ErrBadSignature):
		return reasonBadSignature
	}
	// CookieCodec.Decode documents that every error wraps one of the three
	// sentinels; anything else is a payload we could not make sense of.
	return reasonMalformed
}

func runDecode(c *cli, cmd *command, args []string) int {
	fs := newFlagSet(cmd.name)
	pos, status, ok := parse(c, cmd, fs, args)
	if !ok {
		return status
	}
	if len(pos) != 1 {
		return usageError(c, cmd, "want exactly one VALUE, got %d arguments", len(pos))
	}
	value, err := readValue(c, pos[0])
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	values, err := seshat.DecodeUnverified(value)
	if err != nil {
		return fail(c, cmd, reasonMalformed)
	}
	fmt.Fprintln(c.stderr, "seshat decode: signature not verified")
	return printSession(c, cmd, values)
}

// newCodec resolves the keys and builds the cookie codec; on failure it has
// reported a usage error.
func newCodec(c *cli, cmd *command, ko *keyOptions, salt string) (*seshat.CookieCodec, int, bool) {
	keys, err := ko.resolve(c.env)
	if err != nil {
		return nil, usageError(c, cmd, "%v", err), false
	}
	codec, err := seshat.NewCookieCodec(keys, salt)
	if err != nil {
		// The codec's errors describe the configuration, never a key.
		return nil, usageError(c, cmd, "%v", err), false
	}
	return codec, 0, true
}

// printSession prints values as Flask's compact tagged JSON.
func printSession(c *cli, cmd *command, values map[string]any) int {
	out, err := taggedjson.Marshal(values)
	if err != nil {
		return fail(c, cmd, reasonMalformed)
	}
	fmt.Fprintf(c.stdout, "%s\n", out)
	return exitOK
}
