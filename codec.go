package seshat

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/seshat-go/seshat/signing"
	"github.com/seshat-go/seshat/taggedjson"
)

// CookieCodec encodes and decodes Flask's signed session cookie value: the
// session dict as Flask's tagged JSON, base64url (zlib-compressed when that is
// shorter, as itsdangerous decides; see [CookieCodec.SetCompressThreshold]), a timestamp, and an HMAC-SHA1 signature
// under a key derived with HMAC from the salt — exactly Flask's
// SecureCookieSessionInterface. Use it directly for background jobs, tools and
// tests; [Manager] uses it for every request. It is safe for concurrent use.
type CookieCodec struct {
	signer      *signing.TimestampSigner
	maxDecoded  int
	minCompress int
}

// NewCookieCodec returns a codec for keys (newest last; every key verifies)
// and salt ("" means Flask's "cookie-session"). It applies no key-length
// policy: [New] does that.
func NewCookieCodec(keys [][]byte, salt string) (*CookieCodec, error) {
	if salt == "" {
		salt = DefaultSalt
	}
	ts, err := signing.NewTimestampSigner(keys, signing.Options{
		Salt:          []byte(salt),
		KeyDerivation: signing.HMAC,
		Digest:        signing.SHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("seshat: cookie codec: %w", err)
	}
	return &CookieCodec{signer: ts, maxDecoded: 64 << 10}, nil
}

// SetMaxDecodedSize caps the decompressed payload size Decode accepts.
func (c *CookieCodec) SetMaxDecodedSize(n int) { c.maxDecoded = n }

// SetCompressThreshold makes Encode write payloads shorter than n bytes
// uncompressed; longer ones follow itsdangerous's rule (compressed when that
// is shorter). The default, 0, is Flask's own choice for every payload. A
// [Manager] sets [CompressThreshold] unless Config.FlaskCompression is set.
// Decode reads both forms whatever the setting.
func (c *CookieCodec) SetCompressThreshold(n int) { c.minCompress = n }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putBuf returns a buffer to bufPool unless one huge value grew it.
func putBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		bufPool.Put(bp)
	}
}

// Encode returns the cookie value for values signed at time at.
func (c *CookieCodec) Encode(values map[string]any, at time.Time) (string, error) {
	bp := bufPool.Get().(*[]byte)
	defer putBuf(bp)
	out, err := c.AppendEncode((*bp)[:0], values, at)
	*bp = out[:0]
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// AppendEncode appends the cookie value for values signed at time at to dst.
func (c *CookieCodec) AppendEncode(dst []byte, values map[string]any, at time.Time) ([]byte, error) {
	return c.appendEncode(dst, values, at, signing.CompressAuto)
}

// appendEncode is AppendEncode with a choice of compression: the manager
// retries a cookie that came out too large with signing.CompressBest.
func (c *CookieCodec) appendEncode(dst []byte, values map[string]any, at time.Time, comp signing.Compression) ([]byte, error) {
	jp := bufPool.Get().(*[]byte)
	defer putBuf(jp)
	payload, err := appendJSON((*jp)[:0], values)
	*jp = payload[:0]
	if err != nil {
		return dst, err
	}
	return c.appendPayload(dst, payload, at, comp), nil
}

// appendJSON appends the session's tagged JSON, the payload of its cookie.
func appendJSON(dst []byte, values map[string]any) ([]byte, error) {
	out, err := taggedjson.AppendMarshal(dst, values)
	if err != nil {
		return out, fmt.Errorf("seshat: encode session: %w", err)
	}
	return out, nil
}

// appendPayload appends the signed cookie value for the tagged-JSON payload.
func (c *CookieCodec) appendPayload(dst, payload []byte, at time.Time, comp signing.Compression) []byte {
	start := len(dst)
	if comp == signing.CompressAuto && len(payload) < c.minCompress {
		comp = signing.CompressNever
	}
	if len(payload) > c.maxDecoded {
		// Decode would refuse to inflate this much; written uncompressed
		// it cannot hide in a small cookie (the save then fails loudly as
		// ErrCookieTooLarge) instead of being lost on the next request.
		comp = signing.CompressNever
	}
	dst = signing.AppendURLSafeBody(dst, payload, comp)
	// The body is signed in place: AppendSignAt appends the timestamp and
	// signature after the value it is given, so hand it the body we just wrote.
	body := dst[start:]
	return c.signer.AppendSignAt(dst[:start], body, at)
}

// Decode verifies value and returns the session it holds. maxAge bounds the
// age of the signature (Flask applies PERMANENT_SESSION_LIFETIME to every
// cookie); maxAge < 0 skips the age check. now is the current time.
//
// A bad signature, an expired or future timestamp, or a payload that does not
// decode gives an error wrapping ErrInvalidCookie and the signing sentinel
// (signing.ErrBadSignature, signing.ErrSignatureExpired,
// signing.ErrBadPayload). The error text never holds the value.
func (c *CookieCodec) Decode(value string, maxAge time.Duration, now time.Time) (map[string]any, error) {
	return c.decode(value, maxAge, now, nil)
}

// decode is Decode with a cache of parsed payloads (nil for none). A cached
// entry serves the value only when the value is byte for byte the cookie
// verified for that entry before (its age is still checked), or once the
// value itself has been verified.
func (c *CookieCodec) decode(value string, maxAge time.Duration, now time.Time, cache *payloadCache) (map[string]any, error) {
	// The value and its decoded payload live in pooled buffers: only the
	// session parsed out of them (which copies what it keeps) survives.
	vp, pp := bufPool.Get().(*[]byte), bufPool.Get().(*[]byte)
	defer putBuf(vp)
	defer putBuf(pp)
	v := append((*vp)[:0], value...)
	*vp = v[:0]
	// e is the entry for v's payload (the part before the timestamp, which
	// Unsign returns as body once it has verified v), looked up once.
	var (
		e        *cachedSession
		body     []byte
		signedAt time.Time
		err      error
	)
	if cache != nil {
		if b, ok := unverifiedBody(v); ok {
			body, e = b, cache.lookup(b)
		}
		// The same bytes as a cookie verified before verify again (the
		// keys never change): only the age is checked anew.
		if e != nil && e.sameCookie(v) {
			if maxAge >= 0 {
				if err := signing.CheckAge(body, e.signedAt, maxAge, now); err != nil {
					return nil, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
				}
			}
			return e.copy(), nil
		}
	}
	if maxAge < 0 {
		body, signedAt, err = c.signer.Unsign(v)
	} else {
		body, signedAt, err = c.signer.UnsignMaxAge(v, maxAge, now)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	if e != nil {
		cache.verified(body, e, v, signedAt)
		return e.copy(), nil
	}
	payload, err := signing.AppendDecodeURLSafeBody((*pp)[:0], body, c.maxDecoded)
	*pp = payload[:0]
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	m, err := unmarshalSession(payload)
	if err == nil && cache != nil {
		cache.put(body, len(payload), m, v, signedAt)
	}
	return m, err
}

// DecodeUnverified returns the session inside a cookie value WITHOUT checking
// its signature or age: for debugging tools only, never for trust decisions.
func DecodeUnverified(value string) (map[string]any, error) {
	body, ok := unverifiedBody([]byte(value))
	if !ok {
		return nil, fmt.Errorf("%w: %w: not a signed session cookie", ErrInvalidCookie, signing.ErrBadSignature)
	}
	return decodeBody(body, 64<<10)
}

// unverifiedBody returns the body of BODY.TIMESTAMP.SIGNATURE without
// checking anything; ok is false when the two separators are missing.
func unverifiedBody(v []byte) (body []byte, ok bool) {
	for range 2 {
		i := bytes.LastIndexByte(v, '.')
		if i < 0 {
			return nil, false
		}
		v = v[:i]
	}
	return v, true
}

func decodeBody(body []byte, maxDecoded int) (map[string]any, error) {
	payload, err := signing.DecodeURLSafeBody(body, maxDecoded)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	return unmarshalSession(payload)
}

// unmarshalSession parses a verified payload into the session's values.
func unmarshalSession(payload []byte) (map[string]any, error) {
	m, err := taggedjson.UnmarshalObject(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrInvalidCookie, signing.ErrBadPayload, err)
	}
	return m, nil
}
