package signing

import (
	"bytes"
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

// inflate decompresses the zlib stream src the way Python's zlib.decompress
// does: the header must announce deflate with a window of at most 32 KB and
// no preset dictionary, the Adler-32 trailer must match, bytes after the
// trailer are ignored, and a truncated stream is an error.
//
// It never holds more than maxSize bytes of output: past that it stops and
// reports errTooLarge, having allocated less than twice the cap in total.
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
	out, n, err := inflateRaw(src[2:], maxSize, 8*len(src)) // JSON rarely compresses more than 8:1
	if err != nil {
		return nil, inflateEOF(err)
	}
	rest := src[2+n:]
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
	// zlib's default level, as Python uses: this path only takes payloads
	// over maxSmallDeflate, where clearing the level's 640 KB of match
	// tables on Reset is small next to the compression itself.
	d.zw, _ = zlib.NewWriterLevel(&d.buf, zlib.DefaultCompression)
	return d
}}

// appendStdZlib appends the zlib stream of payload to dst, compressed by
// compress/zlib (for payloads too big for the small encoder).
func appendStdZlib(dst, payload []byte) []byte {
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

// appendBestZlib appends compress/zlib's BestCompression stream of payload.
// It is not pooled: it serves only CompressBest's rare retries.
func appendBestZlib(dst, payload []byte) []byte {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	zw.Write(payload)
	zw.Close()
	return append(dst, buf.Bytes()...)
}

// appendCompressedIfShorter applies itsdangerous's rule: if the zlib form of
// payload is shorter than len(payload)-1, it appends "." ‖ base64url(zlib) to
// dst and reports true; otherwise it leaves dst alone and reports false.
func appendCompressedIfShorter(dst, payload []byte) ([]byte, bool) {
	// The smallest zlib stream holding any data is 9 bytes (2 of header,
	// 3 of deflate, 4 of checksum), so nothing shorter than 11 bytes wins.
	if len(payload) < 11 {
		return dst, false
	}
	bp := scratchBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			scratchBuffers.Put(bp)
		}
	}()
	z, ok := appendZlibIfShorter((*bp)[:0], payload, len(payload)-1)
	*bp = z[:0]
	if !ok {
		return dst, false
	}
	dst = append(dst, '.')
	return appendBase64(dst, z), true
}
