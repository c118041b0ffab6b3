package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"unicode/utf8"
)

// Codec turns values into the bytes a serializer signs and back, the role of
// itsdangerous's serializer argument (an object with dumps and loads).
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is itsdangerous's default for the URL-safe serializers (its
// _CompactJSON): separators "," and ":", no spaces, non-ASCII characters
// written as UTF-8 rather than escaped, no HTML escaping. The bytes are
// identical to Python's json.dumps(obj, separators=(",", ":"),
// ensure_ascii=False) for the same data, with two differences that come from
// Go's types, not from the format: map keys are sorted (Python keeps
// insertion order; a struct keeps field order), and a float64 with an
// integral value is written as 3, not 3.0 (Go cannot tell 3.0 from 3 once it
// is a float64). Python reads both the same way. NaN and ±Inf are errors here
// while Python would write the non-standard NaN/Infinity.
//
// Unmarshal is encoding/json's, plus the UTF-8 check Python applies before
// parsing (invalid UTF-8 is an error, where encoding/json would substitute
// U+FFFD).
var JSON Codec = compactJSON{}

// PlainJSON is what Python's json.dumps writes with default arguments, which
// itsdangerous's plain [Serializer] uses: separators ", " and ": ", and every
// non-ASCII character (and DEL) escaped as \uXXXX with surrogate pairs
// beyond the BMP. Map-key order and float formatting are as for [JSON].
var PlainJSON Codec = plainJSON{}

type compactJSON struct{}

type plainJSON struct{}

func (compactJSON) Marshal(v any) ([]byte, error) {
	return marshalJSON(v, false)
}

func (plainJSON) Marshal(v any) ([]byte, error) {
	return marshalJSON(v, true)
}

func (compactJSON) Unmarshal(data []byte, v any) error { return unmarshalJSON(data, v) }

func (plainJSON) Unmarshal(data []byte, v any) error { return unmarshalJSON(data, v) }

var errInvalidUTF8 = errors.New("signing: payload is not valid UTF-8")

func unmarshalJSON(data []byte, v any) error {
	// itsdangerous decodes the payload as UTF-8 (strictly) before json.loads.
	if !utf8.Valid(data) {
		return errInvalidUTF8
	}
	return json.Unmarshal(data, v)
}

// jsonEncoder is a reusable encoder writing into its own buffer; json.Marshal
// cannot turn HTML escaping off, and Python never escapes <, > or &.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// maxPooledBuffer keeps one huge value from pinning memory in a pool.
const maxPooledBuffer = 64 << 10

func marshalJSON(v any, plain bool) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer func() {
		if e.buf.Cap() <= maxPooledBuffer {
			e.buf.Reset()
			jsonEncoders.Put(e)
		}
	}()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	b = b[:len(b)-1] // Encode's trailing newline
	if plain {
		return pythonDefaultJSON(b), nil
	}
	if bytes.Contains(b, []byte(`\u202`)) {
		return unescapeLineSeparators(b), nil
	}
	return bytes.Clone(b), nil
}

// unescapeLineSeparators undoes encoding/json's unconditional escaping of
// U+2028 and U+2029, which Python with ensure_ascii=False writes raw. It
// returns a new slice.
func unescapeLineSeparators(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		// An escape sequence: copy it whole, so the second byte of "\\"
		// is never mistaken for the start of another escape.
		if b[i+1] == 'u' && i+6 <= len(b) && (string(b[i:i+6]) == `\u2028` || string(b[i:i+6]) == `\u2029`) {
			out = utf8.AppendRune(out, rune(0x2028+int(b[i+5]-'8')))
			i += 5
			continue
		}
		out = append(out, c, b[i+1])
		i++
	}
	return out
}

// pythonDefaultJSON rewrites compact encoding/json output (no HTML escaping)
// into Python's json.dumps default form: ", " and ": " between tokens, and
// ensure_ascii escaping of everything outside printable ASCII. It returns a
// new slice.
func pythonDefaultJSON(b []byte) []byte {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(b)+len(b)/8)
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			out = append(out, c)
			switch c {
			case '"':
				inString = true
			case ',', ':':
				out = append(out, ' ')
			}
			continue
		}
		switch {
		case c == '"':
			inString = false
			out = append(out, c)
		case c == '\\':
			// Copy the escape's first two bytes; a \uXXXX tail is ASCII
			// and is copied by the following iterations.
			out = append(out, c, b[i+1])
			i++
		case c < utf8.RuneSelf && c != 0x7f:
			out = append(out, c)
		default:
			r, size := utf8.DecodeRune(b[i:])
			i += size - 1
			if r >= 0x10000 {
				r -= 0x10000
				hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
				out = append(out, '\\', 'u', hex[hi>>12], hex[hi>>8&0xf], hex[hi>>4&0xf], hex[hi&0xf])
				r = lo
			}
			out = append(out, '\\', 'u', hex[r>>12], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		}
	}
	return out
}
