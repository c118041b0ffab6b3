package taggedjson

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth bounds how deeply arrays and objects may nest, counted in
// the JSON text (a Tuple costs two levels: {" t":[...]}). Unmarshal rejects
// deeper input and Marshal refuses to produce deeper output, both with
// ErrTooDeep, so that hostile cookies cannot exhaust the stack and everything
// Marshal writes can be read back. Python's own limit is near 1000 levels; no
// real session comes close to 128.
const DefaultMaxDepth = 128

// encoder holds the scratch space of one Marshal call. It lives in a
// sync.Pool so that the hot path does not allocate.
type encoder struct {
	kvs   []member // members of the objects being written, sorted per object
	buf   []byte   // output buffer for Marshal (AppendMarshal writes to dst)
	plain bool     // standard JSON without tags, for Convert's encoding/json fallback
}

// member is one member of an object being written or read.
type member struct {
	k string
	v any
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// maxPooledBuf keeps one huge value from pinning memory in the pool forever.
const maxPooledBuf = 64 << 10

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

func putEncoder(e *encoder) {
	if cap(e.buf) > maxPooledBuf {
		e.buf = nil
	}
	if cap(e.kvs) > 1024 {
		e.kvs = nil
	}
	e.plain = false
	encoderPool.Put(e)
}

// Marshal returns the exact bytes Flask's session serializer writes for v
// (TaggedJSONSerializer.dumps inside an app context): tags applied in Flask's
// order, object keys sorted, compact separators, only ASCII in the output
// (everything else as \uXXXX, astral characters as surrogate pairs), NaN and
// the infinities as the bare tokens NaN, Infinity and -Infinity, floats as
// Python's repr, integers of any size exactly.
//
// v is normally a model value (see the package documentation); any other Go
// value goes through Normalize first.
func Marshal(v any) ([]byte, error) {
	// Stores write each value on its own: the common scalars skip the
	// pooled encoder and allocate their output once, at its exact size.
	switch x := v.(type) {
	case string:
		if plainRun(x, 0) == len(x) {
			out := make([]byte, len(x)+2)
			out[0] = '"'
			copy(out[1:], x)
			out[len(out)-1] = '"'
			return out, nil
		}
	case int64:
		var buf [20]byte
		return append([]byte(nil), strconv.AppendInt(buf[:0], x, 10)...), nil
	case bool:
		if x {
			return []byte("true"), nil
		}
		return []byte("false"), nil
	case nil:
		return []byte("null"), nil
	}
	e := getEncoder()
	b, err := e.value(e.buf[:0], v, 0)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	e.buf = b[:0]
	putEncoder(e)
	return out, err
}

// AppendMarshal appends the Marshal encoding of v to dst and returns the
// extended buffer. For model values it uses no reflection, and for strings,
// integers, booleans and maps and lists of those it does not allocate when dst
// has room. On error it returns dst unchanged (same length) and the error.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := getEncoder()
	out, err := e.value(dst, v, 0)
	putEncoder(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// marshalPlain writes v as standard JSON without tags (tuples as arrays,
// bytes as base64 strings, UUIDs and datetimes as strings), which is what
// encoding/json expects when Convert falls back to it.
func marshalPlain(v any) ([]byte, error) {
	e := getEncoder()
	e.plain = true
	b, err := e.value(nil, v, 0)
	putEncoder(e)
	return b, err
}

func errTooDeepOut() error {
	return newError(ErrTooDeep, -1, "output would nest deeper than DefaultMaxDepth")
}

// value writes v. depth is the number of arrays and objects already open.
func (e *encoder) value(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x)
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		return e.float(dst, x)
	case map[string]any:
		return e.object(dst, x, depth)
	case []any:
		return e.list(dst, x, depth)
	case Tuple:
		if e.plain {
			return e.list(dst, x, depth)
		}
		if depth+1 >= DefaultMaxDepth {
			return dst, errTooDeepOut()
		}
		dst = append(dst, `{" t":`...)
		dst, err := e.list(dst, x, depth+1)
		return append(dst, '}'), err
	case []byte:
		dst = e.open(dst, ` b`)
		dst = base64.StdEncoding.AppendEncode(append(dst, '"'), x)
		return e.close(append(dst, '"'), depth)
	case Markup:
		dst, err := appendString(e.open(dst, ` m`), string(x))
		if err != nil {
			return dst, err
		}
		return e.close(dst, depth)
	case UUID:
		dst = append(e.open(dst, ` u`), '"')
		if e.plain {
			dst = x.appendDashed(dst)
		} else {
			dst = x.appendHex(dst)
		}
		return e.close(append(dst, '"'), depth)
	case time.Time:
		t, err := pyDatetime(x)
		if err != nil {
			return dst, err
		}
		dst = append(e.open(dst, ` d`), '"')
		if e.plain {
			dst = t.AppendFormat(dst, time.RFC3339)
		} else {
			dst = appendHTTPDate(dst, t)
		}
		return e.close(append(dst, '"'), depth)
	case *big.Int:
		if x == nil {
			return dst, newError(ErrUnsupportedValue, -1, "nil *big.Int")
		}
		return x.Append(dst, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case float32:
		return e.float(dst, float64(x))
	case json.Number:
		n, err := normalizeNumber(x)
		if err != nil {
			return dst, err
		}
		return e.value(dst, n, depth)
	}
	n, err := normalizeDepth(v, depth)
	if err != nil {
		return dst, err
	}
	return e.value(dst, n, depth)
}

// open starts a one-key tag object such as {" b":...; plain JSON has none.
func (e *encoder) open(dst []byte, tag string) []byte {
	if e.plain {
		return dst
	}
	dst = append(dst, `{"`...)
	dst = append(dst, tag...)
	return append(dst, `":`...)
}

// close ends what open started. The check comes last because these tags hold
// only a string: the result nests one level deeper than depth.
func (e *encoder) close(dst []byte, depth int) ([]byte, error) {
	if e.plain {
		return dst, nil
	}
	if depth >= DefaultMaxDepth {
		return dst, errTooDeepOut()
	}
	return append(dst, '}'), nil
}

func (e *encoder) float(dst []byte, f float64) ([]byte, error) {
	if e.plain && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return dst, newError(ErrUnsupportedValue, -1, "NaN or Infinity in standard JSON")
	}
	return appendJSONFloat(dst, f), nil
}

func (e *encoder) list(dst []byte, l []any, depth int) ([]byte, error) {
	if depth >= DefaultMaxDepth {
		return dst, errTooDeepOut()
	}
	dst = append(dst, '[')
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = e.value(dst, v, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (e *encoder) object(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if depth >= DefaultMaxDepth {
		return dst, errTooDeepOut()
	}
	if len(m) == 1 && !e.plain {
		for k, v := range m {
			if isTag(k) {
				// Flask's TagDict: a user dict whose only key is a tag key
				// would be mistaken for a tag on the way back, so it is
				// escaped as {" di":{key+"__": value}}.
				if depth+1 >= DefaultMaxDepth {
					return dst, errTooDeepOut()
				}
				dst = append(dst, `{" di":{`...)
				dst, err := appendString(dst, k)
				if err != nil {
					return dst, err
				}
				dst = append(dst[:len(dst)-1], `__":`...) // the suffix goes inside the quotes
				if dst, err = e.value(dst, v, depth+2); err != nil {
					return dst, err
				}
				return append(dst, '}', '}'), nil
			}
		}
	}
	// Python sorts str keys by code point. Byte order of UTF-8 (and of the
	// WTF-8 we use for lone surrogates) is the same order.
	if len(m) <= smallObject {
		// A session's maps are small: an insertion sort on the stack
		// needs neither the pooled slice nor write barriers to fill and
		// clear it, and compares inline.
		var arr [smallObject]member
		n := 0
		for k, v := range m {
			arr[n] = member{k: k, v: v}
			n++
		}
		members := arr[:n]
		for i := 1; i < n; i++ {
			x, j := members[i], i
			for ; j > 0 && x.k < members[j-1].k; j-- {
				members[j] = members[j-1]
			}
			members[j] = x
		}
		return e.members(dst, members, depth)
	}
	start := len(e.kvs)
	for k, v := range m {
		e.kvs = append(e.kvs, member{k: k, v: v})
	}
	members := e.kvs[start:]
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.k, b.k) })
	dst, err := e.members(dst, members, depth)
	clear(e.kvs[start:]) // do not keep user values alive from the pool
	e.kvs = e.kvs[:start]
	return dst, err
}

// smallObject is the size up to which the encoder sorts an object's
// members in an array on the stack, and the decoder collects them there:
// enough for a session with Flask-Login's keys and a few of the app's own.
const smallObject = 16

// members writes the sorted members of an object, braces included.
func (e *encoder) members(dst []byte, members []member, depth int) ([]byte, error) {
	dst = append(dst, '{')
	var err error
	for i := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = appendString(dst, members[i].k); err != nil {
			return dst, err
		}
		dst = append(dst, ':')
		if dst, err = e.value(dst, members[i].v, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendString writes s as a JSON string the way Python's json module does
// with ensure_ascii=True: printable ASCII as is, the usual two-character
// escapes for \" \\ \n \r \t \b \f, every other code point (DEL, U+2028, all
// non-ASCII) as lower-case \uXXXX, and astral code points as a surrogate pair.
// Lone surrogates, which Unmarshal stores as WTF-8, are written back as the
// escape they came from. Other invalid UTF-8 cannot come from Python and is an
// error.
func appendString(dst []byte, s string) ([]byte, error) {
	dst = append(dst, '"')
	start := 0
	for i := 0; ; {
		// Runs of printable ASCII are skipped here and copied by one
		// append at the next escape or at the end.
		if i = plainRun(s, i); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = appendU4(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sr, ok := surrogateAt(s, i)
			if !ok {
				return dst, newError(ErrUnsupportedValue, -1, "string is not valid UTF-8")
			}
			r, size = sr, 3
		}
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = appendU4(appendU4(dst, r1), r2)
		} else {
			dst = appendU4(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), nil
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}

// surrogateAt reports whether s[i:] starts with the 3-byte generalized UTF-8
// encoding of a surrogate code point (ED A0..BF 80..BF), which is how a lone
// \udXXX escape is kept in a Go string.
func surrogateAt(s string, i int) (rune, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1]&0xE0 == 0xA0 && s[i+2]&0xC0 == 0x80 {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
	}
	return 0, false
}

// isTag reports whether k is one of the keys Flask's TaggedJSONSerializer
// registers.
func isTag(k string) bool {
	if len(k) < 2 || k[0] != ' ' {
		return false
	}
	switch k[1:] {
	case "di", "t", "b", "m", "u", "d":
		return true
	}
	return false
}
