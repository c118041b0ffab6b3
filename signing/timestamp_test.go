package signing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 0)

func mustTimestampSigner(t testing.TB, keys [][]byte, o Options) *TimestampSigner {
	t.Helper()
	s, err := NewTimestampSigner(keys, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTimestampSignerClock(t *testing.T) {
	at := t0
	ts := mustTimestampSigner(t, [][]byte{testKey}, Options{Now: func() time.Time { return at }})
	if got := string(ts.Sign([]byte("hello"))); got != "hello.ZVPxAA.WhQbv1Hz_rBJ6Sstens2Vos6rEw" {
		t.Errorf("Sign = %q", got)
	}
	// The default clock is time.Now.
	def := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	before := time.Now().Unix()
	_, signedAt, err := def.Unsign(def.Sign([]byte("x")))
	if err != nil || signedAt.Unix() < before || signedAt.Unix() > time.Now().Unix() {
		t.Errorf("default clock: %v, %v", signedAt, err)
	}
}

func TestTimestampEncoding(t *testing.T) {
	cases := map[int64]string{0: "", -5: "", 1: "AQ", 255: "_w", 256: "AQA", 1700000000: "ZVPxAA", 5000000000: "ASoF8gA", 1<<62 + 1: "QAAAAAAAAAE"}
	for ts, want := range cases {
		if got := string(appendTimestamp(nil, ts)); got != want {
			t.Errorf("appendTimestamp(%d) = %q, want %q", ts, got, want)
		}
	}
	// Pre-1970 and fractional times, truncated toward zero like int().
	s := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	if got, want := s.SignAt([]byte("v"), time.Unix(-100, 0)), s.SignAt([]byte("v"), time.Unix(0, 0)); !bytes.Equal(got, want) {
		t.Errorf("pre-1970 signs as %q, want timestamp 0 %q", got, want)
	}
	if pyUnix(time.Unix(-2, 500_000_000)) != -1 || pyUnix(time.Unix(2, 999_999_999)) != 2 {
		t.Error("pyUnix does not truncate toward zero")
	}
	// Decoding: up to 8 bytes, leading zeros allowed, lenient base64.
	dec := map[string]int64{"": 0, "AAAAAA": 0, "AAAAAAAAAAA": 0, "!!*": 0, "ZVPxAA": 1700000000, "ZVPxAA==": 1700000000, "__________8": -1}
	for in, want := range dec {
		got, ok := decodeTimestamp([]byte(in))
		if !ok || got != uint64(want) {
			t.Errorf("decodeTimestamp(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"A", "AAAAAAAAAAAA", "AAAAAAAAAAAAAAAA"} {
		if _, ok := decodeTimestamp([]byte(in)); ok {
			t.Errorf("decodeTimestamp(%q) accepted", in)
		}
	}
}

// signRawTimestamp makes a validly signed TimestampSigner token carrying an
// arbitrary timestamp field, by signing value.TS with a plain Signer.
func signRawTimestamp(t *testing.T, value, tsField string) []byte {
	return mustSigner(t, [][]byte{testKey}, Options{}).Sign([]byte(value + "." + tsField))
}

func TestTimestampOutOfPythonRange(t *testing.T) {
	s := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	var b [8]byte
	for _, ts := range []uint64{maxTimestamp + 1, 1 << 40, 1<<63 + 5, 1<<64 - 1} {
		binary.BigEndian.PutUint64(b[:], ts)
		tok := signRawTimestamp(t, "v", string(appendBase64(nil, bytes.TrimLeft(b[:], "\x00"))))
		for _, checkAge := range []bool{false, true} {
			var err error
			if checkAge {
				_, _, err = s.UnsignMaxAge(tok, time.Hour, t0)
			} else {
				_, _, err = s.Unsign(tok)
			}
			var e *Error
			if !errors.As(err, &e) || e.Message != "Malformed timestamp" || e.Kind != ErrBadTimeSignature || string(e.Payload) != "v" {
				t.Errorf("ts %d (age check %v): %v", ts, checkAge, err)
			}
		}
		// With a bad signature too: itsdangerous's fromtimestamp fails
		// the same way.
		bad := append(bytes.Clone(tok[:len(tok)-1]), tok[len(tok)-1]^1)
		if _, _, err := s.Unsign(bad); err == nil || err.(*Error).Message != "Malformed timestamp" {
			t.Errorf("ts %d, bad signature: %v", ts, err)
		}
	}
	// The last representable second is fine.
	binary.BigEndian.PutUint64(b[:], maxTimestamp)
	tok := signRawTimestamp(t, "v", string(appendBase64(nil, bytes.TrimLeft(b[:], "\x00"))))
	if _, at, err := s.Unsign(tok); err != nil || at.Year() != 9999 {
		t.Errorf("max timestamp: %v, %v", at, err)
	}
}

func TestTimestampMaxAge(t *testing.T) {
	s := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	tok := s.SignAt([]byte("v"), t0)
	cases := []struct {
		now    time.Time
		maxAge time.Duration
		msg    string // "" = accepted
		errStr string
	}{
		{t0, 0, "", ""},
		{t0.Add(999 * time.Millisecond), 0, "", ""}, // whole seconds: age 0
		{t0.Add(time.Second), 0, "Signature age 1 > 0 seconds", "signing: signature expired (age 1s > 0s)"},
		{t0.Add(3 * time.Second), 3 * time.Second, "", ""},
		{t0.Add(4 * time.Second), 3 * time.Second, "Signature age 4 > 3 seconds", "signing: signature expired (age 4s > 3s)"},
		{t0.Add(time.Second), 1500 * time.Millisecond, "", ""},
		{t0.Add(2 * time.Second), 1500 * time.Millisecond, "Signature age 2 > 1.5 seconds", "signing: signature expired (age 2s > 1.5s)"},
		{t0.Add(-time.Second), time.Hour, "Signature age -1 < 0 seconds", "signing: signature expired (age -1s < 0s)"},
		{t0, -time.Second, "Signature age 0 > -1 seconds", "signing: signature expired (age 0s > -1s)"},
		{t0.Add(-time.Second), -1500 * time.Millisecond, "Signature age -1 > -1.5 seconds", "signing: signature expired (age -1s > -1.5s)"},
		{t0.Add(200 * 365 * 24 * time.Hour), 1<<63 - 1, "", ""}, // no overflow
	}
	for _, c := range cases {
		v, at, err := s.UnsignMaxAge(tok, c.maxAge, c.now)
		if c.msg == "" {
			if err != nil || string(v) != "v" || !at.Equal(t0) {
				t.Errorf("now %v maxAge %v: %q, %v, %v", c.now, c.maxAge, v, at, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Message != c.msg || e.Error() != c.errStr || !errors.Is(err, ErrSignatureExpired) || !e.DateSigned.Equal(t0) || string(e.Payload) != "v" {
			t.Errorf("now %v maxAge %v: %#v", c.now, c.maxAge, err)
		}
	}
	// Unsign never checks the age.
	if _, _, err := s.Unsign(tok); err != nil {
		t.Error(err)
	}
}

func TestTimestampErrors(t *testing.T) {
	s := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	plain := mustSigner(t, [][]byte{testKey}, Options{})
	cases := []struct {
		tok     string
		kind    error
		msg     string
		payload string // "-" for nil
	}{
		{"nosep", ErrBadSignature, "No b'.' found in value", "-"},
		{"", ErrBadSignature, "No b'.' found in value", "-"},
		{"v.AAAA", ErrBadSignature, "Signature b'AAAA' does not match", "v"},
		{".", ErrBadSignature, "Signature b'' does not match", ""},
		{"v.ZVPxAA.AAAA", ErrBadTimeSignature, "Signature b'AAAA' does not match", "v"},
		{string(plain.Sign([]byte("v"))), ErrBadTimeSignature, "timestamp missing", "v"},
		{string(plain.Sign([]byte("v.A"))), ErrBadTimeSignature, "Malformed timestamp", "v"},
		{string(plain.Sign([]byte("a.b.AAAAAAAAAAAA"))), ErrBadTimeSignature, "Malformed timestamp", "a.b"},
	}
	for _, c := range cases {
		_, _, err := s.UnsignMaxAge([]byte(c.tok), time.Hour, t0)
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.kind || e.Message != c.msg {
			t.Errorf("%q: %#v", c.tok, err)
			continue
		}
		if c.payload == "-" && e.Payload != nil || c.payload != "-" && (e.Payload == nil || string(e.Payload) != c.payload) {
			t.Errorf("%q: Payload %q", c.tok, e.Payload)
		}
		if s.Validate([]byte(c.tok)) {
			t.Errorf("%q: Validate true", c.tok)
		}
	}
}

func TestAppendSignAtInPlace(t *testing.T) {
	// The session codec writes the body into dst and then signs it where
	// it lies: AppendSignAt(dst[:start], dst[start:], at).
	s := mustTimestampSigner(t, [][]byte{testKey}, Options{})
	want := "pre" + string(s.SignAt([]byte("hello"), t0))
	for _, extra := range []int{0, 100} {
		buf := make([]byte, 0, 8+extra)
		buf = append(buf, "pre"...)
		buf = append(buf, "hello"...)
		if got := string(s.AppendSignAt(buf[:3], buf[3:], t0)); got != want {
			t.Errorf("extra %d: %q, want %q", extra, got, want)
		}
	}
}

func TestTimestampAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	s := mustTimestampSigner(t, [][]byte{oldKey, testKey}, Options{})
	value := []byte(`eyJfZnJlc2giOnRydWV9`)
	buf := make([]byte, 0, 256)
	tok := s.SignAt(value, t0)
	if n := testing.AllocsPerRun(200, func() { buf = s.AppendSignAt(buf[:0], value, t0) }); n != 0 {
		t.Errorf("AppendSignAt: %v allocs", n)
	}
	if n := testing.AllocsPerRun(200, func() { _, _, _ = s.UnsignMaxAge(tok, time.Hour, t0) }); n != 0 {
		t.Errorf("UnsignMaxAge: %v allocs", n)
	}
	if n := testing.AllocsPerRun(200, func() { _, _, _ = s.Unsign(tok) }); n != 0 {
		t.Errorf("Unsign: %v allocs", n)
	}
}
