package signing

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// zlibCompress is the reference compressor for tests: Go's zlib at level.
func zlibCompress(t testing.TB, b []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestURLSafeBodyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	payloads := [][]byte{nil, {}, []byte("x"), []byte(`{"a":1}`), []byte(strings.Repeat(`"abcdefgh",`, 40)), []byte(strings.Repeat("\x00", 5000))}
	for i := 0; i < 300; i++ {
		n := r.IntN(600)
		b := make([]byte, n)
		alpha := 2 + r.IntN(255)
		for j := range b {
			b[j] = byte(r.IntN(alpha))
		}
		payloads = append(payloads, b)
	}
	for _, p := range payloads {
		for _, c := range []Compression{CompressAuto, CompressNever, 7} {
			body := AppendURLSafeBody([]byte("keep"), p, c)
			if !bytes.HasPrefix(body, []byte("keep")) {
				t.Fatal("prefix lost")
			}
			body = body[4:]
			compressed := len(body) > 0 && body[0] == '.'
			if compressed && c != CompressAuto {
				t.Errorf("compressed under %d", c)
			}
			if !compressed && !bytes.Equal(body, appendBase64(nil, p)) {
				t.Errorf("uncompressed body is not base64url(payload)")
			}
			got, err := DecodeURLSafeBody(body, 0)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("round trip of %d bytes (compressed %v): %v", len(p), compressed, err)
			}
			if compressed {
				// The rule: only when shorter than len(payload)-1.
				z, _ := appendDecodeLenient(nil, body[1:])
				if len(z) >= len(p)-1 {
					t.Errorf("compressed %d bytes to %d: not shorter by 2", len(p), len(z))
				}
			}
		}
	}
}

// TestCompressAutoFollowsRule checks the decision against the compressor's
// own output: compression is used exactly when it is shorter than
// len(payload)-1.
func TestCompressAutoFollowsRule(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		n := r.IntN(300)
		b := make([]byte, n)
		alpha := 1 + r.IntN(64)
		for j := range b {
			b[j] = byte(' ' + r.IntN(alpha))
		}
		z := compressForTest(b)
		want := len(z) < len(b)-1
		body := AppendURLSafeBody(nil, b, CompressAuto)
		if got := len(body) > 0 && body[0] == '.'; got != want {
			t.Fatalf("payload %q: compressed=%v, but zlib gives %d bytes for %d", b, got, len(z), len(b))
		}
	}
}

func TestDecodeURLSafeBodyPython(t *testing.T) {
	// Produced by Python's zlib.compress (level 6) and base64_encode:
	// {"data":["abcdefgh" x 40]} from the vectors, and b"hello" with junk
	// after the stream, which zlib.decompress ignores.
	big := `{"data":[` + strings.TrimSuffix(strings.Repeat(`"abcdefgh",`, 40), ",") + `]}`
	cases := map[string]string{
		".eJyrVkpJLElUsopWSkxKTklNS89Q0hllDh1mbC0AFvCSvQ": big,
		".eJzLSM3JyQcABiwCFWp1bms":                        "hello",
	}
	for body, want := range cases {
		got, err := DecodeURLSafeBody([]byte(body), 0)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", body, got, err)
		}
	}
}

func TestDecodeURLSafeBodyErrors(t *testing.T) {
	good := appendBase64([]byte("."), zlibCompress(t, []byte("hello world"), 6))
	z := zlibCompress(t, []byte("hello world"), 6)
	badSum := bytes.Clone(z)
	badSum[len(badSum)-1] ^= 1
	dict := bytes.Clone(z)
	dict[1] = dict[1]&0xc0 | 0x20 // FDICT, FCHECK recomputed below
	dict[1] += byte((31 - (int(dict[0])<<8|int(dict[1]))%31) % 31)
	bigWindow := bytes.Clone(z)
	bigWindow[0] = 0x88 // CINFO 8: a 64 KB window
	bigWindow[1] = bigWindow[1]&0xe0 + byte((31-(int(bigWindow[0])<<8|int(bigWindow[1]&0xe0))%31)%31)
	notDeflate := bytes.Clone(z)
	notDeflate[0] = 0x79
	cases := []struct {
		body string
		msg  string
	}{
		{"A", msgBase64},
		{"AB!!", msgBase64},
		{".A", msgBase64},
		{".", msgZlib},
		{".bm90IHpsaWIgZGF0YQ", msgZlib},
		{string(good[:len(good)-3]), msgZlib}, // truncated
		{string(appendBase64([]byte("."), badSum)), msgZlib},
		{string(appendBase64([]byte("."), dict)), msgZlib},
		{string(appendBase64([]byte("."), bigWindow)), msgZlib},
		{string(appendBase64([]byte("."), notDeflate)), msgZlib},
		{string(appendBase64([]byte("."), z[:len(z)-1])), msgZlib},
		{string(appendBase64([]byte("."), z[:1])), msgZlib},
	}
	for _, c := range cases {
		_, err := DecodeURLSafeBody([]byte(c.body), 0)
		var e *Error
		if !errors.As(err, &e) || e.Kind != ErrBadPayload || e.Message != c.msg || e.Err == nil {
			t.Errorf("%q: %#v", c.body, err)
		}
	}
	// Lenient base64 in the compressed form too: junk bytes are skipped.
	// (Four of them, so the padding itsdangerous computes from the raw
	// length is unchanged.)
	if got, err := DecodeURLSafeBody(append([]byte(".!!!!"), good[1:]...), 0); err != nil || string(got) != "hello world" {
		t.Errorf("lenient compressed body: %q, %v", got, err)
	}
}

func TestDecodeURLSafeBodyLimit(t *testing.T) {
	p := bytes.Repeat([]byte("a"), 1000)
	body := appendBase64([]byte("."), zlibCompress(t, p, 6))
	if got, err := DecodeURLSafeBody(body, 1000); err != nil || len(got) != 1000 {
		t.Errorf("exactly at the limit: %d, %v", len(got), err)
	}
	_, err := DecodeURLSafeBody(body, 999)
	var e *Error
	if !errors.As(err, &e) || e.Message != msgZlib || !errors.Is(err, errTooLarge) || !strings.Contains(e.Error(), "limit") {
		t.Errorf("over the limit: %v", err)
	}
	// The limit does not apply to uncompressed bodies (bounded by their
	// own length).
	if got, err := DecodeURLSafeBody(appendBase64(nil, p), 10); err != nil || len(got) != 1000 {
		t.Errorf("uncompressed: %d, %v", len(got), err)
	}
}

// zlibBomb returns a zlib stream of mib MiB of zeros without compressing them
// all: after a first flushed 1 MiB block, the deflate block for the next MiB
// of zeros only refers back to zeros, so it can be repeated verbatim.
func zlibBomb(t testing.TB, mib int) []byte {
	var zb bytes.Buffer
	fw, _ := flate.NewWriter(&zb, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	fw.Write(zeros)
	fw.Flush()
	first := len(zb.Bytes())
	fw.Write(zeros)
	fw.Flush()
	out := []byte{0x78, 0xda}
	out = append(out, zb.Bytes()[:first]...)
	for i := 1; i < mib; i++ {
		out = append(out, zb.Bytes()[first:]...)
	}
	out = append(out, 0x01, 0x00, 0x00, 0xff, 0xff) // final empty stored block
	n := uint32(mib << 20)
	sum := (n%65521)<<16 | 1 // Adler-32 of n zero bytes
	out = binary.BigEndian.AppendUint32(out, sum)
	if got, err := io.ReadAll(io.LimitReader(mustZlibReader(t, out), 3<<20)); err != nil || len(got) != min(mib, 3)<<20 {
		t.Fatalf("bomb does not inflate: %d, %v", len(got), err)
	}
	return out
}

func mustZlibReader(t testing.TB, b []byte) io.Reader {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestZlibBomb feeds 100 MB of zeros compressed (about 100 KB) and checks
// that it is rejected quickly and without allocating much more than the cap.
func TestZlibBomb(t *testing.T) {
	zbuf := zlibBomb(t, 100)
	body := appendBase64([]byte("."), zbuf)
	t.Logf("bomb: 100 MiB as %d bytes of zlib, %d of body", len(zbuf), len(body))

	// The same bomb inside a validly signed token.
	key := [][]byte{testKey}
	ser, _ := NewURLSafeTimedSerializer(key, SerializerOptions{})
	tok := mustTimestampSigner(t, key, Options{Salt: []byte(DefaultSerializerSalt)}).Sign(body)

	for _, limit := range []int{0, 64 << 10} {
		DecodeURLSafeBody(body, limit) // warm the pools
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := DecodeURLSafeBody(body, limit)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrBadPayload) || !errors.Is(err, errTooLarge) {
			t.Fatalf("bomb accepted: %v", err)
		}
		capBytes := limit
		if capBytes == 0 {
			capBytes = DefaultMaxDecompressedSize
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("limit %d: rejected in %v, allocated %d bytes", capBytes, elapsed, allocated)
		// Output growth stays under 2×cap; the base64 scratch is the
		// body's size (too big to be pooled).
		if allocated > uint64(2*capBytes+len(body)+64<<10) {
			t.Errorf("allocated %d bytes for a cap of %d", allocated, capBytes)
		}
		if elapsed > 2*time.Second {
			t.Errorf("took %v", elapsed)
		}
	}
	var v any
	if err := ser.Loads(string(tok), &v); !errors.Is(err, ErrBadPayload) {
		t.Errorf("serializer accepted the bomb: %v", err)
	}
}

func TestURLSafeBodyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	small := []byte(`{"_fresh":true,"_user_id":"42","cart":[1,2,3],"csrf_token":"3f786850e387550fdab836ed7e6dc881de23001b","theme":"dark"}`)
	big := []byte(`{"data":[` + strings.TrimSuffix(strings.Repeat(`"abcdefgh",`, 40), ",") + `]}`)
	dst := make([]byte, 0, 1024)
	for _, p := range [][]byte{small, big, []byte(`{"a":1}`)} {
		for _, c := range []Compression{CompressAuto, CompressNever} {
			dst = AppendURLSafeBody(dst[:0], p, c) // warm the pools
			if n := testing.AllocsPerRun(100, func() { dst = AppendURLSafeBody(dst[:0], p, c) }); n != 0 {
				t.Errorf("AppendURLSafeBody(%d bytes, %d): %v allocs", len(p), c, n)
			}
		}
	}
	// Decoding allocates only the returned slice, plus one regrowth when
	// the data compresses more than 8:1 (the big payload is 9:1).
	for i, p := range [][]byte{small, big} {
		body := AppendURLSafeBody(nil, p, CompressAuto)
		DecodeURLSafeBody(body, 0)
		if n := testing.AllocsPerRun(100, func() { DecodeURLSafeBody(body, 0) }); n > float64(1+i) {
			t.Errorf("DecodeURLSafeBody(%d bytes, compressed %v): %v allocs", len(p), body[0] == '.', n)
		}
	}
}

// compressForTest returns the zlib bytes of the compressor
// AppendURLSafeBody uses.
func compressForTest(b []byte) []byte { return appendZlib(nil, b) }

// TestCompressBest: the retry mode reads back, follows itsdangerous's rule,
// and beats the fast encoder on ordinary text (on trivially repetitive input
// the fast encoder can win, so callers keep the shorter of the two).
func TestCompressBest(t *testing.T) {
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")
	var b strings.Builder
	for i := 0; b.Len() < 14000; i++ {
		b.WriteString(words[(i*7+i/3)%len(words)])
		b.WriteByte(' ')
	}
	text := []byte(`{"notes":"` + b.String() + `"}`)
	if best, auto := AppendURLSafeBody(nil, text, CompressBest), AppendURLSafeBody(nil, text, CompressAuto); len(best) >= len(auto) {
		t.Errorf("on text, best %d bytes is not shorter than auto %d", len(best), len(auto))
	}
	for _, tc := range []struct {
		payload    []byte
		compressed bool
	}{{text, true}, {[]byte(`{"a":1}`), false}, {bytes.Repeat([]byte("x"), 300), true}} {
		best := AppendURLSafeBody(nil, tc.payload, CompressBest)
		got, err := DecodeURLSafeBody(best, 0)
		if err != nil || !bytes.Equal(got, tc.payload) {
			t.Fatalf("%d-byte payload does not round-trip: %v", len(tc.payload), err)
		}
		if c := best[0] == '.'; c != tc.compressed {
			t.Errorf("%d-byte payload: compressed=%v, want %v", len(tc.payload), c, tc.compressed)
		}
	}
}
