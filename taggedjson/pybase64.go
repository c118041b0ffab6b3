package taggedjson

// pyB64Decode is Python's base64.b64decode(s) with validate=False (what
// Flask's TagBytes uses): the standard alphabet, characters outside it
// silently skipped, and decoding stopping at the first complete padding. It
// fails like Python does when the data characters leave one character over
// or the padding is missing. '-' and '_' are not in the alphabet, so URL-safe
// input loses those characters rather than decoding them.
func pyB64Decode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/4*3+2)
	quad, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			// A pad only counts once two data characters of the quad are in;
			// enough pads end the input, whatever follows.
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return out, nil
				}
			}
			continue
		}
		v := b64Value(c)
		if v < 0 {
			continue
		}
		pads = 0
		switch quad {
		case 0:
			left = byte(v)
			quad = 1
		case 1:
			out = append(out, left<<2|byte(v)>>4)
			left = byte(v) & 0x0f
			quad = 2
		case 2:
			out = append(out, left<<4|byte(v)>>2)
			left = byte(v) & 0x03
			quad = 3
		case 3:
			out = append(out, left<<6|byte(v))
			quad = 0
		}
	}
	switch quad {
	case 0:
		return out, nil
	case 1:
		return nil, newError(ErrInvalidTag, -1, `" b": base64 data characters cannot be 1 more than a multiple of 4`)
	}
	return nil, newError(ErrInvalidTag, -1, `" b": incorrect base64 padding`)
}

func b64Value(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}
