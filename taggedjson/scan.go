package taggedjson

import "math/bits"

// Strings in a session are mostly long runs of printable ASCII (CSRF
// tokens, hex ids, names) that both the reader and the writer copy as they
// are. plainRun finds the end of such a run eight bytes at a time, with
// the classic bit tricks for "does this word hold a byte that is ...".

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// plainRun returns the index of the first byte of s at or after i that is
// not printable ASCII (a control character, DEL or a byte ≥ 0x80) or is '"'
// or '\\', or len(s) if there is none.
func plainRun(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := specialBytes(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	if i >= len(s) {
		return i
	}
	if len(s)-i > 3 && len(s) >= 8 {
		// The last eight bytes, shifted down past the ones before i
		// (which may be special: the caller may have just handled one),
		// with plain 'a' bytes shifted in on top.
		shift := 8 * (i + 8 - len(s))
		x := load64(s, len(s)-8)>>shift | 'a'*lowBits<<(64-shift)
		if m := specialBytes(x); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		return len(s)
	}
	for ; i < len(s) && plainByte[s[i]]; i++ {
	}
	return i
}

// plainByte is true for the bytes plainRun skips, for strings shorter than
// a word and the last few bytes of others.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// load64 is the little-endian word at s[i:i+8]; the compiler makes it one
// load.
func load64(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// specialBytes sets the high bit of each byte of x that plainRun stops at,
// and possibly of bytes above the lowest such byte (a borrow carries only
// out of a byte that matched); so the lowest set bit always marks the
// first byte to stop at, and a word of plain bytes gives 0.
func specialBytes(x uint64) uint64 {
	// (y - lowBits) & ^y has the high bit of a byte set where the lowest
	// zero byte of y is; the same with n*lowBits finds a byte < n (n ≤ 0x80).
	// x + lowBits sets it for DEL; x has it for bytes ≥ 0x80 (whose carry
	// out of the addition is above a match).
	ctl := (x - 0x20*lowBits) & ^x
	q := x ^ ('"' * lowBits)
	bs := x ^ ('\\' * lowBits)
	return (x | (x + lowBits) | ctl | (q-lowBits)&^q | (bs-lowBits)&^bs) & highBits
}
