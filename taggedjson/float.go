package taggedjson

import (
	"math"
	"strconv"
)

// appendPyRepr appends repr(f) as Python 3 prints a float: the shortest
// digits that round-trip, in fixed notation when the decimal exponent is in
// (-4, 16] and in scientific notation otherwise, always with a ".0" or an
// exponent so that the text reads back as a float and not an int. Python's json
// module uses exactly this for finite floats, so the bytes must match it.
//
// Non-finite values are written as Python's str() does (nan, inf, -inf);
// callers that write JSON handle them before calling.
func appendPyRepr(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// strconv's shortest formatting uses the same criterion as Python's
	// (shortest string that rounds back to the same double), so only the
	// layout differs. Start from "d.ddde±X" and rearrange.
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	epos := len(b) - 1
	for b[epos] != 'e' {
		epos--
	}
	exp := 0
	for _, c := range b[epos+2:] { // b[epos+1] is the exponent's sign
		exp = exp*10 + int(c-'0')
	}
	if b[epos+1] == '-' {
		exp = -exp
	}
	var digs [24]byte
	nd := 0
	for _, c := range b[:epos] {
		if c != '.' {
			digs[nd] = c
			nd++
		}
	}
	d := digs[:nd]
	decpt := exp + 1 // value = 0.d1d2d3... × 10^decpt
	if decpt <= -4 || decpt > 16 {
		dst = append(dst, d[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -decpt; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	case decpt >= nd:
		dst = append(dst, d...)
		for i := nd; i < decpt; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, '.', '0')
	default:
		dst = append(dst, d[:decpt]...)
		dst = append(dst, '.')
		dst = append(dst, d[decpt:]...)
	}
	return dst
}

// appendJSONFloat appends f as Python's json module writes it with
// allow_nan=True (the default, which Flask keeps): the bare, non-standard
// tokens NaN, Infinity and -Infinity for the non-finite values.
func appendJSONFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendPyRepr(dst, f)
}
