package taggedjson

import (
	"sort"
	"unicode/utf8"
)

// Helpers that reproduce the CPython str behaviour the tag decoders depend
// on. Strings here may hold lone surrogates as 3-byte WTF-8 sequences (see
// Unmarshal); Python counts each of those as one code point, so these helpers
// do too.

// pyDecodeRune decodes the code point at s[i]: UTF-8, or a WTF-8 surrogate.
func pyDecodeRune(s string, i int) (rune, int) {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		if sr, ok := surrogateAt(s, i); ok {
			return sr, 3
		}
	}
	return r, size
}

// pyLastRuneSize is the byte length of the last code point of s (s != "").
func pyLastRuneSize(s string) int {
	if n := len(s); n >= 3 {
		if _, ok := surrogateAt(s, n-3); ok {
			return 3
		}
	}
	_, size := utf8.DecodeLastRuneInString(s)
	return size
}

// pyLen is len(s) in Python: the number of code points.
func pyLen(s string) int {
	n := 0
	for i := 0; i < len(s); n++ {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := pyDecodeRune(s, i)
		i += size
	}
	return n
}

// pyTrimLast2 is s[:-2] in Python: s without its last two code points.
func pyTrimLast2(s string) string {
	for k := 0; k < 2 && s != ""; k++ {
		s = s[:len(s)-pyLastRuneSize(s)]
	}
	return s
}

func firstRune(s string) (rune, bool) {
	if s == "" {
		return 0, false
	}
	r, _ := pyDecodeRune(s, 0)
	return r, true
}

func inRanges(r rune, ranges [][2]rune) bool {
	i := sort.Search(len(ranges), func(i int) bool { return ranges[i][1] >= r })
	return i < len(ranges) && ranges[i][0] <= r
}

// pyIsSpace is str.isspace() for one code point.
func pyIsSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || ('\t' <= r && r <= '\r') || (0x1c <= r && r <= 0x1f)
	}
	return inRanges(r, pySpaceRanges)
}

// pyIsDigit is str.isdigit() for one code point (decimal digits and other
// digits such as superscripts).
func pyIsDigit(r rune) bool {
	if r < 0x80 {
		return '0' <= r && r <= '9'
	}
	return inRanges(r, pyDigitRanges)
}

// pyDecimal is unicodedata.decimal(): the value of a decimal digit of any
// script, which int() accepts.
func pyDecimal(r rune) (int, bool) {
	if r < 0x80 {
		if '0' <= r && r <= '9' {
			return int(r - '0'), true
		}
		return 0, false
	}
	i := sort.Search(len(pyDecimalZeros), func(i int) bool { return pyDecimalZeros[i] > r }) - 1
	if i >= 0 && r-pyDecimalZeros[i] < 10 {
		return int(r - pyDecimalZeros[i]), true
	}
	return 0, false
}

// pySplit is str.split() without arguments: fields separated by runs of
// Python whitespace.
func pySplit(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); {
		r, size := pyDecodeRune(s, i)
		if pyIsSpace(r) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// pyMaxStrDigits is sys.int_info.default_max_str_digits: int() of a decimal
// string with more digits raises ValueError (CVE-2020-10735 mitigation,
// Python ≥ 3.11, 3.10.7, 3.9.14...). json.loads is subject to it too.
const pyMaxStrDigits = 4300

// pyIntScan runs Python's int(s, base) for base 10 or 16 and calls digit for
// each digit value, most significant first. It reports the sign and whether
// Python would accept the string.
//
// Python first maps every non-ASCII whitespace character to ' ' and every
// non-ASCII decimal digit to its ASCII digit (anything else non-ASCII makes
// the literal invalid), then accepts: surrounding ASCII whitespace, one
// sign, for base 16 an optional 0x/0X prefix (optionally followed by one
// underscore), and digits with single underscores between them.
func pyIntScan(s string, base int, digit func(int)) (neg, ok bool) {
	var stack [64]byte
	b := stack[:0]
	for i := 0; i < len(s); {
		r, size := pyDecodeRune(s, i)
		i += size
		switch {
		case r < 0x7f:
			// ASCII is kept as is, and only " \t\n\v\f\r" count as
			// whitespace below: \x1c..\x1f are str.isspace() but not
			// int() whitespace.
			b = append(b, byte(r))
		case pyIsSpace(r):
			b = append(b, ' ')
		default:
			d, isDec := pyDecimal(r)
			if !isDec {
				return false, false
			}
			b = append(b, byte('0'+d))
		}
	}
	i := 0
	for i < len(b) && isIntSpace(b[i]) {
		i++
	}
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if base == 16 && i+1 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') {
		i += 2
		if i < len(b) && b[i] == '_' {
			i++
		}
	}
	if i < len(b) && b[i] == '_' {
		return false, false
	}
	digits, prevUnderscore := 0, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '_' {
			if prevUnderscore {
				return false, false
			}
			prevUnderscore = true
			continue
		}
		d := digitValue(c)
		if d >= base {
			break
		}
		if base == 10 && digits == pyMaxStrDigits {
			return false, false
		}
		digit(d)
		digits++
		prevUnderscore = false
	}
	if prevUnderscore || digits == 0 {
		return false, false
	}
	for i < len(b) && isIntSpace(b[i]) {
		i++
	}
	return neg, i == len(b)
}

// isIntSpace is the whitespace int() strips (after mapping non-ASCII
// whitespace to ' ').
func isIntSpace(c byte) bool { return c == ' ' || ('\t' <= c && c <= '\r') }

func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// satLimit caps pyIntSat's magnitude: far beyond every range the date code
// checks, and small enough that adding a few thousand cannot overflow.
const satLimit = 1 << 62

// pyIntSat is int(s) for base 10 with the magnitude saturated at satLimit.
func pyIntSat(s string) (int64, bool) {
	var v int64
	neg, ok := pyIntScan(s, 10, func(d int) {
		if v < satLimit {
			v = v*10 + int64(d)
			if v > satLimit {
				v = satLimit
			}
		}
	})
	if neg {
		v = -v
	}
	return v, ok
}
