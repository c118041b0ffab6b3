package signing

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"io"
	"sync"
)

// DefaultMaxDecompressedSize is the cap on a decompressed payload when none
// is given: far above any cookie (browsers keep 4 KB) yet small enough that a
// zlib bomb cannot exhaust memory.
const DefaultMaxDecompressedSize = 1 << 20

var errTooLarge = errors.New("signing: decompressed payload exceeds the size limit")

// Errors for the zlib wrapper (RFC 1950) around the deflate stream.
var (
	errZlibHeader   = errors.New("signing: invalid zlib header")
	errZlibDict     = errors.New("signing: zlib stream needs a preset dictionary")
	errZlibChecksum = errors.New("signing: zlib checksum mismatch")
)

// inflater is a reusable flate decompressor with the bytes.Reader it reads
// from. flate.NewReader allocates tens of kilobytes of tables; Reset reuses
// them. The zlib wrapper is handled here rather than by compress/zlib, whose
// Reset allocates a new Adler-32 hash each time.
type inflater struct {
	src bytes.Reader
	fr  io.ReadCloser
}

var inflaters = sync.Pool{New: func() any {
	f := new(inflater)
	f.fr = flate.NewReader(&f.src)
	return f
}}

// inflate decompresses the zlib stream src the way Python's zlib.decompress
// does: the header must be a deflate stream with a window of at most 32 KB
// and no preset dictionary, the Adler-32 trailer must match, and bytes after
// the trailer are ignored. A truncated stream is an error.
//
// It never holds more than maxSize+1 bytes of output: past maxSize it stops
// and reports errTooLarge. The output grows by doubling from a guess and
// jumps straight to the cap near the end, so a zlib bomb costs less than
// twice the cap in total allocation.
func inflate(src []byte, maxSize int) ([]byte, error) {
	if len(src) < 2 {
		return nil, io.ErrUnexpectedEOF
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint(cmf)<<8|uint(flg))%31 != 0 {
		return nil, errZlibHeader
	}
	if flg&0x20 != 0 {
		return nil, errZlibDict
	}
	f := inflaters.Get().(*inflater)
	defer func() {
		f.src.Reset(nil)
		inflaters.Put(f)
	}()
	f.src.Reset(src[2:])
	// flate reads a bytes.Reader (an io.ByteReader) byte by byte and never
	// past the end of the deflate data, so the trailer is what is left.
	if err := f.fr.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return nil, err
	}

	limit := maxSize + 1
	out := make([]byte, 0, min(limit, max(512, 4*len(src))))
	for {
		if len(out) == cap(out) {
			if len(out) >= limit {
				return nil, errTooLarge
			}
			next := 2 * cap(out)
			if 2*next > limit {
				next = limit
			}
			grown := make([]byte, len(out), next)
			copy(grown, out)
			out = grown
		}
		n, err := f.fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > maxSize {
			return nil, errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	rest := src[len(src)-f.src.Len():]
	if len(rest) < 4 {
		return nil, io.ErrUnexpectedEOF
	}
	if binary.BigEndian.Uint32(rest) != adler32.Checksum(out) {
		return nil, errZlibChecksum
	}
	return out, nil
}

// deflater is a reusable zlib writer and the buffer it writes to.
type deflater struct {
	buf bytes.Buffer
	zw  *zlib.Writer
}

var deflaters = sync.Pool{New: func() any {
	d := &deflater{}
	// BestSpeed because resetting a compressor at any higher level clears
	// 640 KB of match tables, which would dominate signing a cookie.
	d.zw, _ = zlib.NewWriterLevel(&d.buf, zlib.BestSpeed)
	return d
}}

// appendZlib appends the zlib stream of payload to dst.
func appendZlib(dst, payload []byte) []byte {
	d := deflaters.Get().(*deflater)
	defer func() {
		if d.buf.Cap() <= maxPooledBuffer {
			deflaters.Put(d)
		}
	}()
	d.buf.Reset()
	d.zw.Reset(&d.buf)
	d.zw.Write(payload)
	d.zw.Close()
	return append(dst, d.buf.Bytes()...)
}

// appendCompressedIfShorter applies itsdangerous's rule: if the zlib form of
// payload is shorter than len(payload)-1, it appends "." ‖ base64url(zlib) to
// dst and reports true; otherwise it leaves dst alone and reports false.
func appendCompressedIfShorter(dst, payload []byte) ([]byte, bool) {
	// A zlib stream is at least 8 bytes (2 header, 1 for the smallest
	// deflate block holding anything, 4 checksum, and a byte of data), so
	// nothing under 10 bytes can win.
	if len(payload) < 10 {
		return dst, false
	}
	bp := scratchBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			scratchBuffers.Put(bp)
		}
	}()
	z := appendZlib((*bp)[:0], payload)
	*bp = z[:0]
	if len(z) >= len(payload)-1 {
		return dst, false
	}
	dst = append(dst, '.')
	return appendBase64(dst, z), true
}
