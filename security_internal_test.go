package seshat

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/signing"
)

var internalKey = []byte("0123456789abcdef0123456789abcdef")

// SID-01: 10 000 ids from the default scheme are 43 base64url characters
// holding 32 random bytes (256 bits), all distinct, all accepted by the
// syntax check the store path applies, and their signed cookies decode back
// to them.
func TestGeneratedIDs(t *testing.T) {
	ids, err := newDefaultIDs([][]byte{internalKey})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	seen := make(map[string]bool, n)
	var ones, bits int
	for range n {
		id := ids.New()
		if len(id) != idLen || !validID(id) {
			t.Fatalf("id %q: length %d or alphabet wrong", id, len(id))
		}
		raw, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(raw) != 32 {
			t.Fatalf("id decodes to %d bytes (%v), want 32", len(raw), err)
		}
		if seen[id] {
			t.Fatalf("duplicate id after %d", len(seen))
		}
		seen[id] = true
		for _, b := range raw {
			for ; b != 0; b &= b - 1 {
				ones++
			}
		}
		bits += 8 * len(raw)
		got, _, err := ids.Decode(ids.Encode(id, false))
		if err != nil || got != id {
			t.Fatalf("round trip: %q %v", got, err)
		}
	}
	// 2 560 000 fair bits: the share of ones is 0.5 ± 0.0003 (1 σ); a
	// stuck or zeroed source is far outside ±0.01.
	if r := float64(ones) / float64(bits); r < 0.49 || r > 0.51 {
		t.Fatalf("share of one bits %.4f: not a uniform source", r)
	}
}

// SC-06 / T-15: Decode verifies the signature before it decodes anything.
// A cookie whose body would inflate to 60 KiB is decoded in full when its
// signature is right; with one signature byte changed, Decode reports a bad
// signature (not a bad payload, as it would if it decoded first, for a body
// that does not decode) and allocates nothing near the inflated size.
func TestCVE_2013_7489_DecoderNotCalledOnBadMAC(t *testing.T) {
	codec, err := NewCookieCodec([][]byte{internalKey}, DefaultSalt)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1710000000, 0)
	// A compressed body of a 60 KiB JSON string: cheap to send, costly to
	// decode.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(`{"k":"` + strings.Repeat("a", 60<<10) + `"}`))
	zw.Close()
	body := "." + base64.RawURLEncoding.EncodeToString(z.Bytes())
	signer := codec.signer
	good := string(signer.SignAt([]byte(body), now))
	bad := flipSig(good)

	if v, err := codec.Decode(good, time.Hour, now); err != nil || len(v["k"].(string)) != 60<<10 {
		t.Fatalf("valid cookie: %v", err)
	}
	perCall := func(v string) (uint64, error) {
		var before, after runtime.MemStats
		var err error
		runtime.ReadMemStats(&before)
		for range 20 {
			_, err = codec.Decode(v, time.Hour, now)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 20, err
	}
	goodBytes, _ := perCall(good)
	badBytes, err := perCall(bad)
	if !errors.Is(err, signing.ErrBadSignature) || errors.Is(err, signing.ErrBadPayload) {
		t.Fatalf("bad MAC: %v", err)
	}
	if goodBytes < 60<<10 || badBytes > 8<<10 {
		t.Fatalf("allocated %d bytes per valid decode and %d per forged one: the forged body was decoded", goodBytes, badBytes)
	}

	// A body that is not even base64 reports the signature, not the body.
	junk := string(signer.SignAt([]byte("!!not-base64!!"), now))
	junk = flipSig(junk)
	if _, err := codec.Decode(junk, time.Hour, now); !errors.Is(err, signing.ErrBadSignature) || errors.Is(err, signing.ErrBadPayload) {
		t.Fatalf("junk body, bad MAC: %v", err)
	}
	// The store-mode id scheme checks the id's syntax only after its
	// signature, too.
	ids, _ := newDefaultIDs([][]byte{internalKey})
	forged := ids.Encode("../../etc/passwd", false)
	forged = flipSig(forged)
	if _, _, err := ids.Decode(forged); !errors.Is(err, signing.ErrBadSignature) || errors.Is(err, errMalformedID) {
		t.Fatalf("forged id: %v", err)
	}
}

// flipSig changes the first character of the signature (after the last
// '.'), which carries six bits of the MAC.
func flipSig(v string) string {
	i := strings.LastIndexByte(v, '.') + 1
	c := byte('A')
	if v[i] == 'A' {
		c = 'B'
	}
	return v[:i] + string(c) + v[i+1:]
}
