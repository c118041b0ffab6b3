// Package strmap encodes the data column of the SQL stores: a JSON object
// mapping each session key to a JSON string that holds the value's tagged
// JSON byte for byte.
//
// Keeping each value as a string, rather than as nested JSON, is what makes
// the round trip exact: PostgreSQL's jsonb would reject NaN, Infinity, \u0000
// and lone surrogates, all of which Flask's tagged JSON can hold, and would
// turn a float written as 1e+16 into an integer; SQLite's JSON functions
// would write NaN back as null. It also lets a merge statement rebuild the
// object in the engine without ever mistaking a JSON null value for "delete
// this key".
package strmap

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Encode writes the data column for values. It refuses keys and values
// that are not valid UTF-8 or hold a NUL byte, which a SQL text value cannot
// hold.
func Encode(values map[string][]byte) ([]byte, error) {
	n := 2
	for k, v := range values {
		n += len(k) + len(v) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	first := true
	for k, v := range values {
		if err := checkText("key", k, k); err != nil {
			return nil, err
		}
		if err := checkText("value of key", k, string(v)); err != nil {
			return nil, err
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, string(v))
	}
	return append(b, '}'), nil
}

// checkText refuses what a SQL text value cannot hold.
func checkText(what, key, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, key)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%s %q contains a NUL byte", what, key)
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. s is valid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Decode reads the data column back: a JSON object whose values are
// all strings. Anything else is an error. The returned values share one
// buffer (each capped at its own length, so appending to one cannot touch
// another); data must not be used by the caller afterwards.
func Decode(data []byte) (map[string][]byte, error) {
	d := decoder{b: data}
	d.space()
	if !d.eat('{') {
		return nil, errors.New("data is not a JSON object")
	}
	out := make(map[string][]byte, 8)
	d.space()
	if !d.eat('}') {
		for {
			d.space()
			k, err := d.str()
			if err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
			d.space()
			if !d.eat(':') {
				return nil, fmt.Errorf("no ':' after key %q", k)
			}
			d.space()
			if d.i < len(d.b) && d.b[d.i] != '"' {
				return nil, fmt.Errorf("value of key %q is not a string", k)
			}
			v, err := d.str()
			if err != nil {
				return nil, fmt.Errorf("value of key %q: %w", k, err)
			}
			out[string(k)] = v
			d.space()
			if d.eat(',') {
				continue
			}
			if d.eat('}') {
				break
			}
			return nil, fmt.Errorf("bad JSON after key %q at offset %d", k, d.i)
		}
	}
	d.space()
	if d.i != len(d.b) {
		return nil, fmt.Errorf("trailing data at offset %d", d.i)
	}
	return out, nil
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a JSON string. Without escapes the result is a capped
// sub-slice of the input; with escapes, the unescaped text is written over
// the input in place (it is never longer than its escaped form).
func (d *decoder) str() ([]byte, error) {
	if !d.eat('"') {
		return nil, errors.New("not a string")
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i:d.i]
			d.i++
			return s, nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, errors.New("control character in string")
		}
		d.i++
	}
	return nil, errors.New("unterminated string")
}

// escaped finishes a string that has escapes, from d.i (at a backslash).
func (d *decoder) escaped(start int) ([]byte, error) {
	w := d.i // write position: the unescaped text so far is b[start:w]
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:w:w]
			d.i++
			return s, nil
		case c < 0x20:
			return nil, errors.New("control character in string")
		case c != '\\':
			d.b[w] = c
			w++
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			d.b[w] = e
		case 'b':
			d.b[w] = '\b'
		case 'f':
			d.b[w] = '\f'
		case 'n':
			d.b[w] = '\n'
		case 'r':
			d.b[w] = '\r'
		case 't':
			d.b[w] = '\t'
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, errors.New("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair gives one character; anything else the
				// replacement character, as encoding/json does.
				hi, save := r, d.i
				r = utf8.RuneError
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					d.i += 2
					lo, ok := d.hex4()
					if dec := utf16.DecodeRune(hi, lo); ok && dec != utf8.RuneError {
						r = dec
					} else {
						d.i = save
					}
				}
			}
			w += utf8.EncodeRune(d.b[w:], r)
			continue
		default:
			return nil, fmt.Errorf("bad escape \\%c", e)
		}
		w++
	}
	return nil, errors.New("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	r, ok := parseHex4(d.b[d.i : d.i+4])
	if ok {
		d.i += 4
	}
	return r, ok
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// CheckKey refuses a session key that a SQL text value cannot hold.
func CheckKey(k string) error { return checkText("key", k, k) }

// EncodeKeys writes keys as a JSON array of strings.
func EncodeKeys(keys []string) (string, error) {
	b := make([]byte, 0, 2+len(keys)*8)
	b = append(b, '[')
	for i, k := range keys {
		if err := CheckKey(k); err != nil {
			return "", err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
	}
	return string(append(b, ']')), nil
}
