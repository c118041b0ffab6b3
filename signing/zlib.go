package signing

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"sync"
)

// DefaultMaxDecompressedSize is the cap on a decompressed payload when none
// is given: far above any cookie (browsers keep 4 KB) yet small enough that a
// zlib bomb cannot exhaust memory.
const DefaultMaxDecompressedSize = 1 << 20

var errTooLarge = errors.New("signing: decompressed payload exceeds the size limit")

// inflater is a reusable zlib reader with the bytes.Reader it reads from.
// zlib.NewReader allocates a flate decompressor (tens of kilobytes of
// tables); Reset reuses it.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser // nil until the first valid stream header
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// inflate decompresses the zlib stream src. It never holds more than about
// maxSize+1 bytes of output: reading stops at maxSize+1 bytes and reports
// errTooLarge. Trailing bytes after the stream are ignored, as Python's
// zlib.decompress ignores them; a bad checksum or a truncated stream is an
// error, as in Python.
func inflate(src []byte, maxSize int) ([]byte, error) {
	f := inflaters.Get().(*inflater)
	defer func() {
		f.src.Reset(nil)
		inflaters.Put(f)
	}()
	f.src.Reset(src)
	if f.zr == nil {
		zr, err := zlib.NewReader(&f.src)
		if err != nil {
			return nil, err
		}
		f.zr = zr
	} else if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return nil, err
	}

	// Grow the output by doubling from a guess, never past maxSize+1, so
	// a bomb costs at most about twice the cap in total allocation.
	limit := maxSize + 1
	out := make([]byte, 0, min(limit, max(512, 4*len(src))))
	for {
		if len(out) == cap(out) {
			if len(out) >= limit {
				return nil, errTooLarge
			}
			grown := make([]byte, len(out), min(limit, 2*cap(out)))
			copy(grown, out)
			out = grown
		}
		n, err := f.zr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > maxSize {
			return nil, errTooLarge
		}
		if err == io.EOF {
			// zlib's reader returns EOF only after verifying the
			// Adler-32 checksum.
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
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
	z := d.buf.Bytes()
	if len(z) >= len(payload)-1 {
		return dst, false
	}
	dst = append(dst, '.')
	return appendBase64(dst, z), true
}
