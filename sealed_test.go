package seshat

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/signing"
)

var sealKey = []byte("0123456789abcdef0123456789abcdef")

func testSealer(keys ...[]byte) *sealer {
	if len(keys) == 0 {
		keys = [][]byte{sealKey}
	}
	return newSealer(keys, "session", 64<<10)
}

func seal(t *testing.T, s *sealer, vals map[string]any, at time.Time) string {
	t.Helper()
	b, err := s.appendSeal(nil, vals, at)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSealRoundTrip: a sealed session opens to the same values, and its
// cookie shows none of them.
func TestSealRoundTrip(t *testing.T) {
	s := testSealer()
	now := time.Unix(1710000000, 0)
	v := seal(t, s, map[string]any{"secret": "hunter2-plaintext", "n": int64(7)}, now)
	got, err := s.open(v, time.Hour, now)
	if err != nil || got["secret"] != "hunter2-plaintext" || got["n"] != int64(7) {
		t.Fatalf("open: %v, %v", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	if strings.Contains(string(raw), "hunter2") || strings.Contains(v, "aHVudGVy") {
		t.Fatal("the sealed cookie shows its plaintext")
	}
}

// TestSC08_SealedCookie: the same payload sealed twice differs; flipping
// any single bit of the sealed bytes, or moving the value to a cookie of
// another name, makes it fail to open.
func TestSC08_SealedCookie(t *testing.T) {
	s := testSealer()
	now := time.Unix(1710000000, 0)
	vals := map[string]any{"user": "alice"}
	a, b := seal(t, s, vals, now), seal(t, s, vals, now)
	if a == b {
		t.Fatal("the same payload sealed twice gave the same cookie")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(raw) * 8 {
		flipped := append([]byte(nil), raw...)
		flipped[i/8] ^= 1 << (i % 8)
		_, err := s.open(base64.RawURLEncoding.EncodeToString(flipped), time.Hour, now)
		if !errors.Is(err, ErrInvalidCookie) || !errors.Is(err, signing.ErrBadSignature) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	other := newSealer([][]byte{sealKey}, "remember", 64<<10)
	if _, err := other.open(a, time.Hour, now); !errors.Is(err, signing.ErrBadSignature) {
		t.Fatalf("opened under another cookie name: %v", err)
	}
	if _, err := testSealer([]byte("another-key-0123456789abcdef-0123")).open(a, time.Hour, now); !errors.Is(err, signing.ErrBadSignature) {
		t.Fatalf("opened under another key: %v", err)
	}
}

// TestSealKeyRotation: the newest key seals, every key opens.
func TestSealKeyRotation(t *testing.T) {
	old, cur := []byte("an-older-key-0123456789abcdef-0123"), sealKey
	now := time.Unix(1710000000, 0)
	v := seal(t, testSealer(old), map[string]any{"k": "v"}, now)
	rotated := testSealer(old, cur)
	if got, err := rotated.open(v, time.Hour, now); err != nil || got["k"] != "v" {
		t.Fatalf("old key's cookie after rotation: %v, %v", got, err)
	}
	w := seal(t, rotated, map[string]any{"k": "w"}, now)
	if _, err := testSealer(cur).open(w, time.Hour, now); err != nil {
		t.Fatalf("rotated manager did not seal with the newest key: %v", err)
	}
	if _, err := testSealer(old).open(w, time.Hour, now); err == nil {
		t.Fatal("the newest key's cookie opened under the old key alone")
	}
}

// TestSealAge: the timestamp inside the seal bounds the cookie's age.
func TestSealAge(t *testing.T) {
	s := testSealer()
	at := time.Unix(1710000000, 0)
	v := seal(t, s, map[string]any{"k": "v"}, at)
	if _, err := s.open(v, time.Hour, at.Add(time.Hour)); err != nil {
		t.Fatalf("age equal to the limit: %v", err)
	}
	for _, now := range []time.Time{at.Add(time.Hour + time.Second), at.Add(-time.Minute)} {
		if _, err := s.open(v, time.Hour, now); !errors.Is(err, signing.ErrSignatureExpired) {
			t.Fatalf("now %v: %v, want expired", now.Sub(at), err)
		}
	}
	if _, err := s.open(v, -1, at.Add(1000*time.Hour)); err != nil {
		t.Fatalf("no age check: %v", err)
	}
}

// TestSC09_SealedNeverCompressed: a highly compressible payload is sealed
// at full length, so its size reveals nothing of what repeats in it.
func TestSC09_SealedNeverCompressed(t *testing.T) {
	s := testSealer()
	payload := strings.Repeat("a", 2000)
	v := seal(t, s, map[string]any{"csrf": "secret", "echo": payload}, time.Now())
	if base64.RawURLEncoding.DecodedLen(len(v)) < len(payload) {
		t.Fatalf("sealed cookie of %d bytes holds a %d-byte value: compressed", len(v), len(payload))
	}
}

// TestSealBadInput: malformed values fail with ErrInvalidCookie, never a
// panic, and the error does not hold the value.
func TestSealBadInput(t *testing.T) {
	s := testSealer()
	good := seal(t, s, map[string]any{"k": "v"}, time.Now())
	for _, v := range []string{"", "x", "!!!!", good[:len(good)-1], good + "A", "AQ", strings.Repeat("A", 200000),
		base64.RawURLEncoding.EncodeToString(make([]byte, sealOverhead))} {
		_, err := s.open(v, time.Hour, time.Now())
		if !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("%.20q: %v", v, err)
		}
		if len(v) > 8 && strings.Contains(err.Error(), v) {
			t.Fatalf("error holds the value: %v", err)
		}
	}
}

// FuzzSealedOpen: whatever the cookie, open never panics and never
// accepts a value it did not seal.
func FuzzSealedOpen(f *testing.F) {
	s := testSealer()
	seed, err := s.appendSeal(nil, map[string]any{"k": "v"}, time.Unix(1710000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("AQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		vals, err := s.open(v, -1, time.Unix(1710000000, 0))
		if err == nil && vals["k"] != "v" {
			t.Fatalf("%q opened to %v", v, vals)
		}
		if err != nil && !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("%q: %v", v, err)
		}
	})
}
