package signing

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSentinelChain(t *testing.T) {
	all := []error{ErrBadData, ErrBadSignature, ErrBadTimeSignature, ErrSignatureExpired, ErrBadPayload}
	// ancestors[x] = every sentinel x "is", itself included (Python's MRO).
	ancestors := map[error][]error{
		ErrBadData:          {ErrBadData},
		ErrBadSignature:     {ErrBadSignature, ErrBadData},
		ErrBadTimeSignature: {ErrBadTimeSignature, ErrBadSignature, ErrBadData},
		ErrSignatureExpired: {ErrSignatureExpired, ErrBadTimeSignature, ErrBadSignature, ErrBadData},
		ErrBadPayload:       {ErrBadPayload, ErrBadData},
	}
	for _, kind := range all {
		e := &Error{Kind: kind}
		wrapped := fmt.Errorf("outer: %w", e)
		for _, target := range all {
			want := false
			for _, a := range ancestors[kind] {
				want = want || a == target
			}
			if got := errors.Is(kind, target); got != want {
				t.Errorf("errors.Is(%v, %v) = %v", kind, target, got)
			}
			if got := errors.Is(wrapped, target); got != want {
				t.Errorf("errors.Is(Error{%v}, %v) = %v", kind, target, got)
			}
		}
	}
	if errors.Is(&Error{}, ErrBadData) {
		t.Error("an Error without Kind matches ErrBadData")
	}
}

func TestErrorUnwrap(t *testing.T) {
	_, err := DecodeURLSafeBody([]byte("A"), 0)
	if !errors.Is(err, ErrBadPayload) || !errors.Is(err, errBase64Length) {
		t.Errorf("%v does not unwrap to the base64 cause", err)
	}
	if errors.Is(err, ErrBadSignature) {
		t.Error("BadPayload is a BadSignature")
	}
}

// TestErrorTextIsSafe checks that Error() is fixed text: it never includes
// the payload, the signature or a key, whatever the token holds.
func TestErrorTextIsSafe(t *testing.T) {
	secret := "SECRETPAYLOAD"
	key := []byte("KEYMATERIAL")
	ts := mustTimestampSigner(t, [][]byte{key}, Options{})
	ser, _ := NewURLSafeTimedSerializer([][]byte{key}, SerializerOptions{Options: Options{Now: func() time.Time { return t0 }}})
	good := ts.SignAt([]byte(secret), t0)
	plain := mustSigner(t, [][]byte{key}, Options{})
	tokens := [][]byte{
		[]byte(secret),
		[]byte(secret + ".SIGSIGSIG"),
		[]byte(secret + ".ZVPxAA.SIGSIGSIG"),
		append(good[:len(good)-1:len(good)-1], 'X'),
		plain.Sign([]byte(secret)),
		plain.Sign([]byte(secret + ".A")),
		plain.Sign([]byte(secret + ".ZVPxAA")),
	}
	for _, tok := range tokens {
		for _, maxAge := range []time.Duration{-time.Hour, time.Hour} {
			_, _, err := ts.UnsignMaxAge(tok, maxAge, t0.Add(time.Hour))
			checkSafe(t, err, secret, "SIGSIG", string(key))
		}
	}
	// Payload errors: valid signature, undecodable content.
	bodySigner := mustTimestampSigner(t, [][]byte{key}, Options{Salt: []byte(DefaultSerializerSalt)})
	for _, body := range []string{"!" + secret, "." + secret, "e1NFQ1JFVFBBWUxPQUR9"} { // the last is {SECRETPAYLOAD}
		var v any
		err := ser.Loads(string(bodySigner.SignAt([]byte(body), t0)), &v)
		if !errors.Is(err, ErrBadPayload) {
			t.Errorf("%q: %v", body, err)
		}
		checkSafe(t, err, secret, string(key))
	}
}

func checkSafe(t *testing.T, err error, forbidden ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "signing: ") {
		t.Errorf("Error() = %q lacks the package prefix", msg)
	}
	for _, f := range forbidden {
		if strings.Contains(msg, f) {
			t.Errorf("Error() = %q contains %q", msg, f)
		}
	}
}

func TestErrorTextFallback(t *testing.T) {
	if got := (&Error{Kind: ErrBadPayload}).Error(); got != "signing: bad payload" {
		t.Errorf("%q", got)
	}
	if got := (&Error{}).Error(); got != "signing: bad data" {
		t.Errorf("%q", got)
	}
}

func TestPyBytesRepr(t *testing.T) {
	cases := map[string]string{
		"":         `b''`,
		"abc":      `b'abc'`,
		"it's":     `b"it's"`,
		`a"b`:      `b'a"b'`,
		`'"`:       `b'\'"'`,
		"\x00\xff": `b'\x00\xff'`,
		"\t\n\r\\": `b'\t\n\r\\'`,
	}
	for in, want := range cases {
		if got := pyBytesRepr([]byte(in)); got != want {
			t.Errorf("pyBytesRepr(%q) = %s, want %s", in, got, want)
		}
	}
}
