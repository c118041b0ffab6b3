package taggedjson

import "errors"

// Tuple is a Python tuple. It is written as {" t":[...]} and read back as a
// Tuple, so code that distinguishes tuples from lists (flash messages are
// 2-tuples) keeps working across Python and Go.
type Tuple []any

// Markup is a markupsafe.Markup string: HTML that must not be escaped again.
// It is written as {" m":"..."}.
type Markup string

// UUID is a Python uuid.UUID. It is written as {" u":"<32 hex digits>"}.
type UUID [16]byte

const hexDigits = "0123456789abcdef"

// ParseUUID parses 32 hexadecimal digits, or the canonical dashed form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, in either case.
//
// It is deliberately strict: Flask's reader is more lenient (it goes through
// Python's uuid.UUID, which also drops "urn:", "uuid:", braces and any dashes);
// that leniency is applied when decoding {" u":...}, not here.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	switch len(s) {
	case 32:
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, errBadUUID
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	default:
		return u, errBadUUID
	}
	for i := range u {
		hi, ok1 := hexVal(s[2*i])
		lo, ok2 := hexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return UUID{}, errBadUUID
		}
		u[i] = hi<<4 | lo
	}
	return u, nil
}

var errBadUUID = errors.New("taggedjson: badly formed UUID (want 32 hex digits or the dashed form)")

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns the canonical lower-case dashed form, like Python's str(uuid).
func (u UUID) String() string {
	var b [36]byte
	return string(u.appendDashed(b[:0]))
}

// Hex returns the 32 lower-case hex digits Flask writes, like Python's uuid.hex.
func (u UUID) Hex() string {
	var b [32]byte
	return string(u.appendHex(b[:0]))
}

func (u UUID) appendHex(dst []byte) []byte {
	for _, c := range u {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

func (u UUID) appendDashed(dst []byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}
