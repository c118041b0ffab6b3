package signing

import "sync"

// Compression selects whether URL-safe bodies may be zlib-compressed.
type Compression int

const (
	// CompressAuto is itsdangerous's URLSafeSerializerMixin rule: compress
	// with zlib and use the result when it is shorter than len(payload)-1
	// bytes, in which case the body is "." ‖ base64url(zlib(payload)).
	// Go's zlib output differs from Python's (both read the other), so the
	// rule is applied to Go's compressed length; near the boundary one side
	// may compress where the other would not.
	CompressAuto Compression = iota
	// CompressNever always writes base64url(payload). Readers handle both
	// forms regardless.
	CompressNever
	// CompressBest applies CompressAuto's rule to the smallest stream
	// compress/zlib makes (BestCompression). It is several times slower:
	// it is for the rare body that came out too large with CompressAuto,
	// such as a session cookie near the browsers' 4 KB limit, which
	// Python's level-6 zlib might still have fitted.
	CompressBest
)

func (c Compression) valid() bool {
	return c == CompressAuto || c == CompressNever || c == CompressBest
}

// AppendURLSafeBody appends the URL-safe serializer body for payload (the
// serialized bytes, e.g. JSON) to dst: base64url without padding, or, under
// CompressAuto when it is shorter by the rule above, "." ‖
// base64url(zlib(payload)). Any Compression other than CompressAuto never
// compresses. It does not allocate when dst has room for the result
// (len(payload)*4/3+2 bytes always suffices).
func AppendURLSafeBody(dst, payload []byte, c Compression) []byte {
	switch c {
	case CompressAuto:
		if out, ok := appendCompressedIfShorter(dst, payload); ok {
			return out
		}
	case CompressBest:
		if z := appendBestZlib(nil, payload); len(z) < len(payload)-1 {
			return appendBase64(append(dst, '.'), z)
		}
	}
	return appendBase64(dst, payload)
}

// scratch buffers for decoding the base64 of a compressed body, which is
// needed only until it is inflated.
var scratchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// DecodeURLSafeBody is the inverse of AppendURLSafeBody, as itsdangerous's
// load_payload does it: a leading "." means the rest is zlib-compressed;
// base64 is decoded leniently (see the package documentation). The
// decompressed size is capped at maxSize bytes (maxSize <= 0 means
// DefaultMaxDecompressedSize), so a zlib bomb fails without using more
// memory than about twice the cap; an uncompressed body is bounded by its own
// length and is not capped. It returns a new slice.
//
// Errors are *Error with Kind ErrBadPayload and itsdangerous's messages
// ("Could not base64 decode the payload because of an exception", "Could not
// zlib decompress the payload before decoding the payload"), the cause in
// Err. This does not verify anything: call it only on a body whose signature
// has been checked.
func DecodeURLSafeBody(body []byte, maxSize int) ([]byte, error) {
	return AppendDecodeURLSafeBody(nil, body, maxSize)
}

// AppendDecodeURLSafeBody is DecodeURLSafeBody appending the payload to dst,
// which must not overlap body: a caller that only parses the payload can
// decode into a reused buffer. With a nil dst the result is a new slice.
func AppendDecodeURLSafeBody(dst, body []byte, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxDecompressedSize
	}
	if len(body) == 0 || body[0] != '.' {
		out, err := appendDecodeLenient(dst, body)
		if err != nil {
			return dst, errPayload(reasonBase64, err)
		}
		return out, nil
	}
	bp := scratchBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			scratchBuffers.Put(bp)
		}
	}()
	z, err := appendDecodeLenient((*bp)[:0], body[1:])
	*bp = z[:0]
	if err != nil {
		return dst, errPayload(reasonBase64, err)
	}
	out, err := inflate(z, maxSize)
	if err == errTooLarge {
		return dst, errPayload(reasonTooLarge, err)
	}
	if err != nil {
		return dst, errPayload(reasonZlib, err)
	}
	if dst == nil {
		return out, nil
	}
	return append(dst, out...), nil
}
