package signing

import (
	"encoding/base64"
	"errors"
)

// itsdangerous's base64: the URL-safe alphabet with the '=' padding stripped.
// Encoding is exactly base64.RawURLEncoding.

func appendBase64(dst, src []byte) []byte {
	return base64.RawURLEncoding.AppendEncode(dst, src)
}

// Decoding follows Python instead of Go, because a token Python accepts must
// be accepted here too. itsdangerous pads the input with '=' to a multiple of
// four (counting every byte, even ones that are not base64) and calls
// base64.urlsafe_b64decode, which is binascii.a2b_base64 in non-strict mode
// after mapping "-_" to "+/". Its rules, reproduced exactly by decodeLenient:
//
//   - Bytes outside the alphabet are skipped. Both "-_" and "+/" are accepted
//     for 62 and 63 (the mapping leaves "+/" alone).
//   - '=' after two or three data characters of a quantum counts as padding;
//     once the quantum is complete the decoding stops and the rest of the
//     input is ignored. Any other '=' is skipped.
//   - The unused low bits of a final partial quantum are ignored.
//   - Ending with one data character in the last quantum is an error
//     ("impossible length"), and so is ending with two or three without the
//     padding to complete it (possible when skipped bytes threw off the
//     padding computed from the raw length).
//
// Accepting these variant spellings is harmless: the signature is compared
// as decoded bytes, so the variants of a valid signature carry the same MAC,
// and everything else in a token is covered byte for byte by the MAC. They
// never come from a real signer; they only need to be accepted because
// itsdangerous accepts them.

var (
	errBase64Length  = errors.New("signing: invalid base64 length")
	errBase64Padding = errors.New("signing: incorrect base64 padding")
	errBase64TooLong = errors.New("signing: decoded base64 too long")
)

// b64Invalid marks a byte outside the alphabet in b64Decode.
const b64Invalid = 0xff

// b64Decode maps a byte to its 6-bit value, accepting both alphabets. It is
// read-only after initialization.
var b64Decode = func() (t [256]byte) {
	for i := range t {
		t[i] = b64Invalid
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// decodedMaxLen bounds the output of decodeLenient for n input bytes.
func decodedMaxLen(n int) int { return (n + 3) / 4 * 3 }

// decodeLenient decodes src with Python's rules into dst and returns the
// number of bytes written. If the output does not fit in dst it returns
// errBase64TooLong; a dst of decodedMaxLen(len(src)) bytes always suffices.
func decodeLenient(dst, src []byte) (int, error) {
	n, quad, pads := 0, 0, 0
	var left byte
	// Python appends (-len) % 4 '=' before decoding; they are processed by
	// the same loop after src, as indexes past its end.
	total := len(src) + (4-len(src)%4)%4
	for i := 0; i < total; i++ {
		// Fast path: a whole clean quantum at a quantum boundary.
		if quad == 0 && i+4 <= len(src) {
			a, b, c, d := b64Decode[src[i]], b64Decode[src[i+1]], b64Decode[src[i+2]], b64Decode[src[i+3]]
			if (a|b|c|d)&0xc0 == 0 { // all four are data characters
				if n+3 > len(dst) {
					return n, errBase64TooLong
				}
				dst[n] = a<<2 | b>>4
				dst[n+1] = b<<4 | c>>2
				dst[n+2] = c<<6 | d
				n += 3
				i += 3
				pads = 0
				continue
			}
		}
		ch := byte('=')
		if i < len(src) {
			ch = src[i]
		}
		if ch == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return n, nil
				}
			}
			continue
		}
		v := b64Decode[ch]
		if v == b64Invalid {
			continue
		}
		pads = 0
		switch quad {
		case 0:
			left = v
			quad = 1
			continue
		case 1:
			ch, left = left<<2|v>>4, v&0x0f
		case 2:
			ch, left = left<<4|v>>2, v&0x03
		case 3:
			ch, left = left<<6|v, 0
		}
		quad = (quad + 1) % 4
		if n >= len(dst) {
			return n, errBase64TooLong
		}
		dst[n] = ch
		n++
	}
	switch quad {
	case 0:
		return n, nil
	case 1:
		return n, errBase64Length
	}
	return n, errBase64Padding
}

// appendDecodeLenient appends the decoding of src to dst.
func appendDecodeLenient(dst, src []byte) ([]byte, error) {
	start := len(dst)
	need := decodedMaxLen(len(src))
	if cap(dst)-start < need {
		grown := make([]byte, start, start+need)
		copy(grown, dst)
		dst = grown
	}
	n, err := decodeLenient(dst[start:start+need], src)
	return dst[:start+n], err
}
