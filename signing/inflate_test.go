package signing

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// testStreams returns zlib streams from both encoders over payloads that
// exercise every block type, long matches, and outputs that grow the
// decoder's buffer several times (ratio above the 8:1 first guess).
func testStreams(t testing.TB) [][]byte {
	r := rand.New(rand.NewPCG(7, 8))
	payloads := [][]byte{
		[]byte("hello"),
		benchSession,
		[]byte(strings.Repeat("abcdefgh", 300)),
		bytes.Repeat([]byte{0}, 5000),
	}
	for _, n := range []int{40, 300} {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abc{}\":,xyz0123"[r.IntN(15)]
		}
		payloads = append(payloads, b)
		rnd := make([]byte, n)
		for i := range rnd {
			rnd[i] = byte(r.Uint32())
		}
		payloads = append(payloads, rnd)
	}
	var streams [][]byte
	for _, p := range payloads {
		streams = append(streams, appendZlib(nil, p))
		for _, level := range []int{zlib.NoCompression, zlib.BestSpeed, zlib.DefaultCompression, zlib.BestCompression, zlib.HuffmanOnly} {
			streams = append(streams, zlibCompress(t, p, level))
		}
	}
	return streams
}

// TestInflateAgainstFlate cuts every stream at every length and flips bits
// throughout it, and requires the same verdict and output as compress/zlib
// (apart from zlib's stricter code-length check, see compareWithStdlib).
func TestInflateAgainstFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	step := 1
	if testing.Short() || raceEnabled {
		step = 7
	}
	for _, z := range testStreams(t) {
		compareWithStdlib(t, z, 1<<20)
		for n := 0; n < len(z); n += step {
			compareWithStdlib(t, z[:n], 1<<20)
			if n >= 2 {
				// Without the checksum, which would catch a decoder
				// that stops early by mistake.
				compareRawWithFlate(t, z[2:n], 1<<20)
			}
		}
		mut := bytes.Clone(z)
		for i := 0; i < 150; i++ {
			p, bit := r.IntN(len(z)), byte(1)<<r.IntN(8)
			mut[p] ^= bit
			compareWithStdlib(t, mut, 1<<20)
			compareRawWithFlate(t, mut[2:], 1<<20)
			mut[p] ^= bit
		}
	}
}

// compareRawWithFlate is compareWithStdlib for a raw deflate stream (no zlib
// header or checksum), so that flipped bits reach the deflate checks instead
// of failing the checksum.
func compareRawWithFlate(t *testing.T, raw []byte, limit int) {
	t.Helper()
	ours, _, err := inflateRaw(raw, limit, 0)
	std, stdErr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), int64(limit)+1))
	switch {
	case err == errInflateCLIncomplete:
	case (err == nil) != (stdErr == nil && len(std) <= limit):
		t.Fatalf("inflateRaw(%x): %v; compress/flate: %d bytes, %v", raw, err, len(std), stdErr)
	case err == nil && !bytes.Equal(ours, std):
		t.Fatalf("inflateRaw(%x) = %q; compress/flate %q", raw, ours, std)
	}
}

// TestInflateCodeLengthStrictness pins the one case where zlib (and so
// Python) rejects a stream compress/flate accepts: a code-length code made of
// a single one-bit code. The block below declares 4 code-length codes with
// only symbol 18 used (length 1), then 18×(138 zeros)… and is rejected.
func TestInflateCodeLengthStrictness(t *testing.T) {
	var w bitWriter
	w.bits(1|2<<1, 3) // final, dynamic
	w.bits(0, 5)      // 257 literal/length codes
	w.bits(0, 5)      // 1 distance code
	w.bits(0, 4)      // 4 code-length codes: 16, 17, 18, 0
	w.bits(0, 3)      // 16: unused
	w.bits(0, 3)      // 17: unused
	w.bits(1, 3)      // 18: length 1
	w.bits(0, 3)      // 0: unused
	raw := w.flush()
	if _, _, err := inflateRaw(raw, 1<<10, 0); err != errInflateCLIncomplete {
		t.Errorf("single-code code-length code: %v, want errInflateCLIncomplete", err)
	}
}

func TestInflateLimitAndAliasing(t *testing.T) {
	p := []byte(strings.Repeat("0123456789", 100))
	z := appendZlib(nil, p)
	for _, max := range []int{1, 999, 1000, 1001} {
		got, err := inflate(z, max)
		if max < len(p) && err != errTooLarge || max >= len(p) && (err != nil || !bytes.Equal(got, p)) {
			t.Errorf("cap %d: %d bytes, %v", max, len(got), err)
		}
		if cap(got) > max {
			t.Errorf("cap %d: output capacity %d", max, cap(got))
		}
	}
	// The output never aliases the input or a pooled buffer.
	a, _ := inflate(z, 1<<20)
	b, _ := inflate(z, 1<<20)
	a[0] = 'X'
	if b[0] != '0' {
		t.Error("two inflates share memory")
	}
}
