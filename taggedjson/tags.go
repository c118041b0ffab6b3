package taggedjson

import (
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// untag is Flask's TaggedJSONSerializer.untag for an object with exactly one
// key, k, that is a registered tag, and value v (already untagged, since
// Flask works bottom-up). order lists the keys of v in document order when v
// is a dict with two or more keys; the Python code iterates dicts in that
// order in two places (tuple(dict) and TagDict's next(iter(dict))).
//
// The conversions reproduce what the Python expressions do with every value
// JSON can produce, including the odd ones (tuple("ab") is ("a","b"),
// Markup(5) is "5"); where Python raises, the payload fails to load and so
// does ours, with ErrInvalidTag.
func untag(k string, v any, order []string, off int) (any, error) {
	switch k {
	case " t":
		return untagTuple(v, order, off)
	case " di":
		// TagDict.to_python: {key[:-2]: value[key]} for the first key.
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			first := ""
			if len(m) == 1 {
				for first = range m {
				}
			} else {
				first = order[0]
			}
			return map[string]any{pyTrimLast2(first): m[first]}, nil
		}
		return nil, tagError(off, `" di" needs a non-empty object, got `+pyTypeName(v))
	case " b":
		switch x := v.(type) {
		case string:
			for i := 0; i < len(x); i++ {
				if x[i] >= utf8.RuneSelf {
					return nil, tagError(off, `" b" string has non-ASCII characters`)
				}
			}
			return pyB64DecodeAt(x, off)
		case Markup:
			return untag(k, string(x), nil, off)
		case []byte:
			return pyB64DecodeAt(string(x), off)
		}
		return nil, tagError(off, `" b" needs a string, got `+pyTypeName(v))
	case " m":
		s, ok := pyStr(v)
		if !ok {
			return nil, tagError(off, `" m" of a `+pyTypeName(v)+` is not supported`)
		}
		return Markup(s), nil
	case " u":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case Markup:
			s = string(x)
		default:
			return nil, tagError(off, `" u" needs a string, got `+pyTypeName(v))
		}
		u, ok := pyUUID(s)
		if !ok {
			return nil, tagError(off, `" u": badly formed hexadecimal UUID string`)
		}
		return u, nil
	case " d":
		return untagDate(v, off)
	}
	panic("taggedjson: untag called with a key that is not a tag")
}

func tagError(off int, msg string) error { return newError(ErrInvalidTag, off, msg) }

func pyB64DecodeAt(s string, off int) (any, error) {
	b, err := pyB64Decode(s)
	if err != nil {
		err.(*Error).Offset = off
		return nil, err
	}
	return b, nil
}

// untagTuple is tuple(v): a list as is; the code points of a string; the
// integers of a bytes object; the keys of a dict in insertion order.
func untagTuple(v any, order []string, off int) (any, error) {
	switch x := v.(type) {
	case []any:
		return Tuple(x), nil
	case Tuple:
		return x, nil
	case string:
		return pyCharsTuple(x), nil
	case Markup: // iterating a Markup yields plain str
		return pyCharsTuple(string(x)), nil
	case []byte:
		t := make(Tuple, len(x))
		for i, c := range x {
			t[i] = int64(c)
		}
		return t, nil
	case map[string]any:
		t := make(Tuple, 0, len(x))
		if len(x) <= 1 {
			for key := range x {
				t = append(t, key)
			}
		} else {
			for _, key := range order {
				t = append(t, key)
			}
		}
		return t, nil
	}
	return nil, tagError(off, `" t" needs a list, got `+pyTypeName(v))
}

func pyCharsTuple(s string) Tuple {
	t := make(Tuple, 0, len(s))
	for i := 0; i < len(s); {
		_, size := pyDecodeRune(s, i)
		t = append(t, s[i:i+size])
		i += size
	}
	return t
}

// untagDate is Werkzeug's parse_date(v). None and every falsy value give
// None (email.utils bails out on "not data" before touching the value);
// bytes give None too (bytes.split() works but the next str operation raises
// TypeError, which parse_date catches); other non-strings raise
// AttributeError, which it does not.
func untagDate(v any, off int) (any, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = x
	case Markup:
		s = string(x)
	case []byte:
		return nil, nil
	default:
		if pyTruthy(v) {
			return nil, tagError(off, `" d" needs a string, got `+pyTypeName(v))
		}
		return nil, nil
	}
	if s == "" {
		return nil, nil
	}
	t, res := parseDate(s)
	switch res {
	case dateOK:
		return t, nil
	case dateNone:
		return nil, nil
	}
	return nil, tagError(off, `" d": date field out of range (Python raises OverflowError)`)
}

// pyTruthy is bool(v) for the values untagging can see.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0 // NaN is true
	case string:
		return x != ""
	case Markup:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case Tuple:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true // UUID, datetime
}

// pyStr is str(v) for the scalar values untagging can see, which is what
// Markup(v) stores. Containers would need Python's repr of nested strings and
// dict order; Flask never writes {" m": <container>}, so they are refused.
func pyStr(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Markup:
		return string(x), true
	case nil:
		return "None", true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case int64:
		return strconv.FormatInt(x, 10), true
	case *big.Int:
		return x.String(), true
	case float64:
		return string(appendPyRepr(nil, x)), true
	case UUID:
		return x.String(), true
	case time.Time:
		return string(appendPyDatetimeStr(nil, x)), true
	case []byte:
		return pyBytesRepr(x), true
	}
	return "", false
}

// pyBytesRepr is repr(b): b'...' (or b"..." when the bytes hold ' and no "),
// printable ASCII as is, \t \n \r and the quote and backslash escaped, the
// rest as \xNN.
func pyBytesRepr(b []byte) string {
	q := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range b {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		q = '"'
	}
	out := []byte{'b', q}
	for _, c := range b {
		switch {
		case c == q || c == '\\':
			out = append(out, '\\', c)
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			out = append(out, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			out = append(out, c)
		}
	}
	return string(append(out, q))
}

// pyUUID is uuid.UUID(s): "urn:" and "uuid:" removed, braces stripped from
// both ends, dashes removed, then exactly 32 code points that int(_, 16)
// accepts and that give a value in [0, 2**128).
func pyUUID(s string) (UUID, bool) {
	// strings.ReplaceAll works left to right without overlaps, as
	// str.replace does, so "uurn:uid:" loses both prefixes here as in Python.
	s = strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if pyLen(s) != 32 {
		return UUID{}, false
	}
	var hi, lo uint64
	over := false
	neg, ok := pyIntScan(s, 16, func(d int) {
		if hi>>60 != 0 {
			over = true
		}
		hi = hi<<4 | lo>>60
		lo = lo<<4 | uint64(d)
	})
	if !ok || over || (neg && (hi != 0 || lo != 0)) {
		return UUID{}, false
	}
	var u UUID
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	return u, true
}

// pyTypeName names v's Python type, for error messages.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Markup:
		return "Markup"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case map[string]any:
		return "dict"
	case UUID:
		return "UUID"
	case time.Time:
		return "datetime"
	}
	return "object"
}
