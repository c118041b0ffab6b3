package taggedjson

import (
	"math"
	"math/big"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Unmarshal parses a Flask session payload (or any tagged JSON text) the way
// TaggedJSONSerializer.loads does: Python's json.loads, then the tags undone
// bottom-up.
//
// JSON follows Python's json module, not RFC 8259 alone: NaN, Infinity and
// -Infinity are accepted; integers stay exact (int64, or *big.Int when they do
// not fit; like Python, more than 4300 digits is an error); a number with a
// fraction or exponent is a float64 even when integral ("1.0"), one that
// overflows is ±Inf ("1E400"); for duplicate keys the last value wins;
// anything else outside the JSON grammar, control characters in strings and
// invalid UTF-8 are errors (ErrSyntax). A \uXXXX escape of a lone surrogate
// (which Python keeps in its str) is stored as the 3-byte WTF-8 sequence of
// that surrogate, so that Marshal writes the same escape back.
//
// Tags: see the package documentation. Unknown tags and tag-like keys in
// objects with more than one key stay plain maps; a tagged value that Flask
// fails to load fails here with ErrInvalidTag. Nesting deeper than
// DefaultMaxDepth fails with ErrTooDeep.
func Unmarshal(data []byte) (any, error) {
	if v, ok := unmarshalScalar(data); ok {
		return v, nil
	}
	if v, ok := unmarshalPlainString(data); ok {
		return v, nil
	}
	return unmarshal(data, true)
}

// unmarshalPlainString reads a document that is exactly one string of
// printable ASCII without escapes, as most stored session values are (ids,
// tokens, names), without the decoder: the string and its interface value
// are the only allocations. Anything else is left to the decoder (ok false).
func unmarshalPlainString(data []byte) (v any, ok bool) {
	n := len(data)
	if n < 2 || data[0] != '"' || data[n-1] != '"' {
		return nil, false
	}
	body := data[1 : n-1]
	for _, c := range body {
		if !plainByte[c] { // a quote, a backslash, a control or non-ASCII byte
			return nil, false
		}
	}
	return string(body), true
}

// unmarshalScalar reads a document that is exactly true, false, null or an
// integer of at most 18 digits, as a store's single values often are,
// without the decoder's copy of the input. Anything else, including
// whitespace and every error, is left to the decoder (ok false).
func unmarshalScalar(data []byte) (v any, ok bool) {
	if len(data) == 0 || len(data) > 19 {
		return nil, false
	}
	switch string(data) {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	}
	digits := data
	if digits[0] == '-' {
		digits = digits[1:]
	}
	// JSON allows no leading zeros; Python reads "-0" as the integer 0.
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return nil, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, false
		}
		n = n*10 + int64(c-'0')
	}
	if data[0] == '-' {
		n = -n
	}
	return n, true
}

// UnmarshalObject is Unmarshal for a session: the result must make a Flask
// session. Flask builds the session with dict(data) (None gives an empty
// one), so besides an object, null and empty lists, strings, tuples and bytes
// give an empty map exactly as in Flask. Everything else fails with
// ErrNotObject; that includes non-empty sequences of key/value pairs, which
// Python's dict() would accept but Flask never writes.
func UnmarshalObject(data []byte) (map[string]any, error) {
	v, err := unmarshal(data, true)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	if v == nil {
		return map[string]any{}, nil
	}
	switch v.(type) {
	case []any, Tuple, string, Markup, []byte:
		if !pyTruthy(v) {
			return map[string]any{}, nil
		}
	}
	return nil, newError(ErrNotObject, 0, "the payload decodes to a "+pyTypeName(v)+", not a dict")
}

func unmarshal(data []byte, untag bool) (any, error) {
	d := decoderPool.Get().(*decoder)
	// One copy of the input: every string without escapes is a substring of
	// it, which saves an allocation per key and value.
	d.src = string(data)
	d.untag = untag
	v, err := d.document()
	d.src = ""
	d.depth = 0
	if cap(d.kvs) > 1024 {
		d.kvs = nil
	}
	if cap(d.vals) > 1024 {
		d.vals = nil
	}
	if cap(d.buf) > maxPooledBuf {
		d.buf = nil
	}
	decoderPool.Put(d)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// decoder is a recursive-descent parser over one input. Its scratch stacks
// live in a sync.Pool: objects and arrays collect their members there and
// are allocated once, at their final size.
type decoder struct {
	src   string
	pos   int
	depth int
	untag bool
	kvs   []member // members of the objects being parsed, past smallObject
	vals  []any    // elements of the arrays being parsed, past smallArray
	buf   []byte   // unescaping scratch
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

func (d *decoder) document() (any, error) {
	d.pos = 0
	d.skipWS()
	v, _, err := d.value(false)
	if err != nil {
		return nil, err
	}
	d.skipWS()
	if d.pos != len(d.src) {
		return nil, d.syntax("extra data")
	}
	return utcTime(v), nil
}

func (d *decoder) syntax(msg string) error { return newError(ErrSyntax, d.pos, msg) }

// skipWS skips the four characters Python's json module treats as
// whitespace; other Unicode spaces are errors there too.
func (d *decoder) skipWS() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) literal(word string, v any) (any, []string, error) {
	if len(d.src)-d.pos >= len(word) && d.src[d.pos:d.pos+len(word)] == word {
		d.pos += len(word)
		return v, nil, nil
	}
	return nil, nil, d.syntax("expecting value")
}

// value parses one value. wantOrder asks an object for its keys in document
// order (see untag); everything else returns a nil order.
func (d *decoder) value(wantOrder bool) (any, []string, error) {
	if d.pos >= len(d.src) {
		return nil, nil, d.syntax("expecting value")
	}
	switch c := d.src[d.pos]; c {
	case '"':
		s, err := d.str()
		return s, nil, err
	case '{':
		return d.object(wantOrder)
	case '[':
		v, err := d.array()
		return v, nil, err
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'n':
		return d.literal("null", nil)
	case 'N':
		return d.literal("NaN", math.NaN())
	case 'I':
		return d.literal("Infinity", math.Inf(1))
	case '-':
		if d.pos+1 < len(d.src) && d.src[d.pos+1] == 'I' {
			return d.literal("-Infinity", math.Inf(-1))
		}
	}
	v, err := d.number()
	return v, nil, err
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? like Python:
// with a fraction or exponent it is a float, otherwise an exact integer.
func (d *decoder) number() (any, error) {
	s, start := d.src, d.pos
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return nil, d.syntax("expecting value")
	}
	intEnd := i
	if i+1 < len(s) && s[i] == '.' && '0' <= s[i+1] && s[i+1] <= '9' {
		i += 2
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && '0' <= s[j] && s[j] <= '9' {
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			i = j
		} // else the 'e' is left over, and is a syntax error in any context
	}
	d.pos = i
	text := s[start:i]
	if i != intEnd {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && err.(*strconv.NumError).Err != strconv.ErrRange {
			return nil, newError(ErrSyntax, start, "bad number")
		}
		return f, nil // out of range: ±Inf or 0, as Python's float()
	}
	neg := text[0] == '-'
	digits := text
	if neg {
		digits = text[1:]
	}
	if len(digits) <= 18 { // fits int64 without checks
		var n int64
		for k := 0; k < len(digits); k++ {
			n = n*10 + int64(digits[k]-'0')
		}
		if neg {
			n = -n
		}
		return n, nil
	}
	if len(digits) > pyMaxStrDigits {
		return nil, newError(ErrSyntax, start, "integer has more than 4300 digits (Python's int() limit)")
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	b, _ := new(big.Int).SetString(text, 10)
	return b, nil
}

// str parses a string at d.pos (which holds the opening quote).
func (d *decoder) str() (string, error) {
	s := d.src
	start := d.pos + 1
	i := start
	// Fast path: no escapes, so the result is a substring of the input.
	for {
		if i = plainRun(s, i); i == len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return s[start:i], nil
		case c == '\\' || c < 0x20:
			return d.strSlow(start, i)
		case c < utf8.RuneSelf: // DEL
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return "", d.syntax("invalid UTF-8")
			}
			i += size
		}
	}
	d.pos = start - 1
	return "", d.syntax("unterminated string")
}

func (d *decoder) strSlow(start, i int) (string, error) {
	s := d.src
	b := append(d.buf[:0], s[start:i]...)
	defer func() { d.buf = b[:0] }()
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(b), nil
		case c < 0x20:
			d.pos = i
			return "", d.syntax("invalid control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return "", d.syntax("invalid UTF-8")
			}
			b = append(b, s[i:i+size]...)
			i += size
			continue
		case c != '\\':
			j := plainRun(s, i+1)
			b = append(b, s[i:j]...)
			i = j
			continue
		}
		// An escape.
		if i+1 >= len(s) {
			break
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				d.pos = i
				return "", d.syntax(`invalid \uXXXX escape`)
			}
			i += 6
			// A high surrogate followed by an escaped low surrogate is one
			// astral code point; any other surrogate stays on its own, as
			// in Python's str.
			if 0xD800 <= r && r <= 0xDBFF && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if r2, ok := hex4(s, i+2); ok && 0xDC00 <= r2 && r2 <= 0xDFFF {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				}
			}
			b = appendWTF8(b, r)
			continue
		default:
			d.pos = i
			return "", d.syntax(`invalid \escape`)
		}
		i += 2
	}
	d.pos = start - 1
	return "", d.syntax("unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		v, ok := hexVal(s[k])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// appendWTF8 is utf8.AppendRune, except that surrogates are encoded as their
// own 3-byte sequence instead of being replaced with U+FFFD.
func appendWTF8(b []byte, r rune) []byte {
	if 0xD800 <= r && r <= 0xDFFF {
		return append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

func (d *decoder) array() (any, error) {
	if d.depth >= DefaultMaxDepth {
		return nil, newError(ErrTooDeep, d.pos, "more than DefaultMaxDepth nested arrays and objects")
	}
	d.depth++
	d.pos++ // '['
	d.skipWS()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	// The elements are collected on the stack, and past smallArray in the
	// pooled d.vals, then copied once into a list of the exact size.
	var local [smallArray]any
	n, start := 0, -1
	release := func() {
		if start >= 0 {
			clear(d.vals[start:])
			d.vals = d.vals[:start]
		}
	}
	for {
		v, _, err := d.value(false)
		if err != nil {
			release()
			return nil, err
		}
		collect(local[:], &d.vals, &start, n, utcTime(v))
		n++
		d.skipWS()
		if d.pos < len(d.src) && d.src[d.pos] == ',' {
			d.pos++
			d.skipWS()
			continue
		}
		if d.pos < len(d.src) && d.src[d.pos] == ']' {
			d.pos++
			break
		}
		release()
		return nil, d.syntax("expecting ',' delimiter")
	}
	out := make([]any, n)
	if start < 0 {
		copy(out, local[:n])
	} else {
		copy(out, d.vals[start:])
		release()
	}
	d.depth--
	return out, nil
}

// smallArray and smallObject (see encode.go) are the sizes up to which the
// decoder collects elements and members on the stack: no pointer writes
// into pooled heap memory (write barriers while the GC runs) to fill and
// clear them.
const smallArray = 16

func (d *decoder) object(wantOrder bool) (any, []string, error) {
	if d.depth >= DefaultMaxDepth {
		return nil, nil, newError(ErrTooDeep, d.pos, "more than DefaultMaxDepth nested arrays and objects")
	}
	d.depth++
	objStart := d.pos
	d.pos++ // '{'
	d.skipWS()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, nil, nil
	}
	var local [smallObject]member
	n, start := 0, -1      // members read; where they continue in d.kvs past local
	var lastOrder []string // key order of the last member's value, see untag
	release := func() {
		if start >= 0 {
			clear(d.kvs[start:])
			d.kvs = d.kvs[:start]
		}
	}
	fail := func(err error) (any, []string, error) {
		release()
		return nil, nil, err
	}
	for {
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return fail(d.syntax("expecting property name enclosed in double quotes"))
		}
		k, err := d.str()
		if err != nil {
			return fail(err)
		}
		d.skipWS()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return fail(d.syntax("expecting ':' delimiter"))
		}
		d.pos++
		d.skipWS()
		v, order, err := d.value(d.untag && (k == " t" || k == " di"))
		if err != nil {
			return fail(err)
		}
		lastOrder = order
		collect(local[:], &d.kvs, &start, n, member{k: k, v: v})
		n++
		d.skipWS()
		if d.pos < len(d.src) && d.src[d.pos] == ',' {
			d.pos++
			d.skipWS()
			continue
		}
		if d.pos < len(d.src) && d.src[d.pos] == '}' {
			d.pos++
			break
		}
		return fail(d.syntax("expecting ',' delimiter"))
	}
	members := local[:min(n, len(local))]
	if start >= 0 {
		members = d.kvs[start:]
	}
	v, order, err := d.finishObject(members, lastOrder, wantOrder, objStart)
	release()
	d.depth--
	return v, order, err
}

// collect stores e, the n-th entry of an array or object: in local while it
// has room, then in the pooled spill, where *start is set to the index the
// entries begin at when local overflows.
func collect[T any](local []T, spill *[]T, start *int, n int, e T) {
	switch {
	case n < len(local):
		local[n] = e
	case n == len(local):
		*start = len(*spill)
		*spill = append(append(*spill, local...), e)
	default:
		*spill = append(*spill, e)
	}
}

// finishObject builds the dict of members and untags it. lastOrder is the
// key order of the last member's value (see untag).
func (d *decoder) finishObject(members []member, lastOrder []string, wantOrder bool, off int) (any, []string, error) {
	if d.untag && isTag(members[0].k) && sameKey(members) {
		// Python's dict keeps the last value of a repeated key.
		last := members[len(members)-1]
		v, err := untag(last.k, last.v, lastOrder, off)
		return v, nil, err
	}
	m := make(map[string]any, len(members))
	for _, e := range members {
		m[e.k] = utcTime(e.v)
	}
	if !wantOrder || len(m) < 2 {
		return m, nil, nil
	}
	return m, keyOrder(members, len(m)), nil
}

func sameKey(members []member) bool {
	for _, e := range members[1:] {
		if e.k != members[0].k {
			return false
		}
	}
	return true
}

// keyOrder lists the distinct keys in order of first appearance, which is
// the iteration order of the dict Python builds.
func keyOrder(members []member, n int) []string {
	order := make([]string, 0, n)
	seen := make(map[string]struct{}, n)
	for _, e := range members {
		if _, dup := seen[e.k]; !dup {
			seen[e.k] = struct{}{}
			order = append(order, e.k)
		}
	}
	return order
}

// utcTime puts a datetime into the model's form (UTC). The decoder keeps the
// parsed offset until the value lands in a container, because
// Markup(datetime) prints it.
func utcTime(v any) any {
	// Small enough to inline: it runs on every value in a container.
	if _, ok := v.(time.Time); ok {
		return toUTC(v)
	}
	return v
}

func toUTC(v any) any {
	if t := v.(time.Time); t.Location() != time.UTC {
		return t.UTC()
	}
	return v
}
