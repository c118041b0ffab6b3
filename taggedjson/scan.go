package taggedjson

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
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if hasSpecialByte(x) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// hasSpecialByte reports whether one of the eight bytes of x is a byte
// plainRun stops at. It may also say true for a word without one (a borrow
// can carry into the next byte only after a byte that matched), so the
// caller rescans the word byte by byte; it never says false for a word with
// one.
func hasSpecialByte(x uint64) bool {
	// (y - lowBits) & ^y has the high bit of a byte set where the lowest
	// zero byte of y is; the same with n*lowBits finds a byte < n (n ≤ 0x80).
	ctl := (x - 0x20*lowBits) & ^x
	q := x ^ ('"' * lowBits)
	bs := x ^ ('\\' * lowBits)
	del := x ^ (0x7f * lowBits)
	return (x|ctl|(q-lowBits)&^q|(bs-lowBits)&^bs|(del-lowBits)&^del)&highBits != 0
}
