package taggedjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// Normalize converts any Go value into the model (see the package
// documentation), so that it can be stored in a session and compared with
// what Unmarshal returns:
//
//   - model values pass through; scalars without allocating, containers
//     (map[string]any, []any, Tuple) are copied only when something inside
//     them changes;
//   - every integer kind becomes int64, or *big.Int past the int64 range (a
//     *big.Int that fits becomes int64); float32 becomes float64;
//   - json.Number becomes int64/*big.Int or float64 by its literal form, as
//     Python reads JSON;
//   - time.Time becomes UTC truncated to whole seconds (what Flask writes);
//   - []T and [N]T become []any ([]byte and named byte slices stay []byte =
//     Python bytes; [N]byte is a list of ints), a nil slice an empty list;
//   - map[K]T becomes map[string]any when K is a string or integer kind
//     (integer keys written in decimal, as Python's json does), a nil map an
//     empty dict;
//   - pointers and interfaces are followed (nil is None);
//   - html/template.HTML becomes Markup;
//   - structs and types implementing json.Marshaler or encoding.TextMarshaler
//     go through encoding/json and come back as the model read from that JSON
//     (so their time.Time fields become RFC 3339 strings, []byte fields
//     base64 strings, and integral floats ints).
//
// Channels, functions, complex numbers, unsafe pointers and maps with other
// key types fail with ErrUnsupportedType naming the type; strings (and keys)
// that are not valid UTF-8, a nil *big.Int and times outside years 1..9999
// with ErrUnsupportedValue; cycles and nesting deeper than DefaultMaxDepth
// with ErrTooDeep. A value Normalize accepts can be marshalled, unless
// Flask's tags push it past DefaultMaxDepth.
func Normalize(v any) (any, error) {
	n, _, err := normalize(v, 0)
	return n, err
}

func normalizeDepth(v any, depth int) (any, error) {
	n, _, err := normalize(v, depth)
	return n, err
}

func errTooDeepNorm() error {
	return newError(ErrTooDeep, -1, "value nests deeper than DefaultMaxDepth (or is cyclic)")
}

// normalize reports whether the result differs from v, so containers can
// skip copying.
func normalize(v any, depth int) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, UUID, []byte:
		return v, false, nil
	case string:
		return v, false, checkString(x)
	case Markup:
		return v, false, checkString(string(x))
	case *big.Int:
		if x == nil {
			return nil, false, newError(ErrUnsupportedValue, -1, "nil *big.Int")
		}
		if x.IsInt64() {
			return x.Int64(), true, nil
		}
		return v, false, nil
	case time.Time:
		t, err := pyDatetime(x)
		if err != nil {
			return nil, false, err
		}
		return t, t != x, nil
	case map[string]any:
		return normalizeMap(x, depth)
	case []any:
		l, changed, err := normalizeList(x, depth)
		if !changed || err != nil {
			return v, false, err // v, not l: re-boxing the slice would allocate
		}
		return l, true, nil
	case Tuple:
		l, changed, err := normalizeList(x, depth)
		if !changed || err != nil {
			return v, false, err
		}
		return Tuple(l), true, nil
	case int:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case int16:
		return int64(x), true, nil
	case int8:
		return int64(x), true, nil
	case uint:
		return uintModel(uint64(x)), true, nil
	case uint64:
		return uintModel(x), true, nil
	case uint32:
		return int64(x), true, nil
	case uint16:
		return int64(x), true, nil
	case uint8:
		return int64(x), true, nil
	case float32:
		return float64(x), true, nil
	case json.Number:
		n, err := normalizeNumber(x)
		return n, true, err
	// The slices and map a handler most often stores, without reflection
	// (which boxes every element twice); the result is the reflect path's.
	case []string:
		return normalizeTyped(x, depth, func(s string) (any, error) { return s, checkString(s) })
	case []int:
		return normalizeTyped(x, depth, func(n int) (any, error) { return int64(n), nil })
	case []int64:
		return normalizeTyped(x, depth, func(n int64) (any, error) { return n, nil })
	case []float64:
		return normalizeTyped(x, depth, func(f float64) (any, error) { return f, nil })
	case map[string]string:
		if depth >= DefaultMaxDepth {
			return nil, false, errTooDeepNorm()
		}
		out := make(map[string]any, len(x))
		for k, s := range x {
			if err := checkString(k); err != nil {
				return nil, false, err
			}
			if err := checkString(s); err != nil {
				return nil, false, err
			}
			out[k] = s
		}
		return out, true, nil
	}
	n, err := normalizeReflect(reflect.ValueOf(v), depth)
	return n, true, err
}

// checkString rejects strings Python cannot hold: anything but UTF-8, with
// lone surrogates allowed as 3-byte WTF-8 sequences (what Unmarshal makes of
// a \udXXX escape). Marshal would fail on them later; failing here tells the
// caller which value is at fault.
func checkString(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		r, size := pyDecodeRune(s, i)
		if r == utf8.RuneError && size == 1 {
			return newError(ErrUnsupportedValue, -1, "string is not valid UTF-8")
		}
		i += size
	}
	return nil
}

func uintModel(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return new(big.Int).SetUint64(u)
}

func normalizeMap(m map[string]any, depth int) (any, bool, error) {
	if depth >= DefaultMaxDepth {
		return nil, false, errTooDeepNorm()
	}
	if m == nil {
		return map[string]any{}, true, nil
	}
	var out map[string]any
	for k, v := range m {
		if err := checkString(k); err != nil {
			return nil, false, err
		}
		n, changed, err := normalize(v, depth+1)
		if err != nil {
			return nil, false, err
		}
		if changed && out == nil {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		if out != nil {
			out[k] = n
		}
	}
	if out == nil {
		return m, false, nil
	}
	return out, true, nil
}

func normalizeList(l []any, depth int) ([]any, bool, error) {
	if depth >= DefaultMaxDepth {
		return nil, false, errTooDeepNorm()
	}
	if l == nil {
		return []any{}, true, nil
	}
	var out []any
	for i, v := range l {
		n, changed, err := normalize(v, depth+1)
		if err != nil {
			return nil, false, err
		}
		if changed && out == nil {
			out = make([]any, len(l))
			copy(out, l)
		}
		if out != nil {
			out[i] = n
		}
	}
	if out == nil {
		return l, false, nil
	}
	return out, true, nil
}

// normalizeNumber reads a json.Number as Python reads a JSON number.
func normalizeNumber(n json.Number) (any, error) {
	v, err := unmarshal([]byte(n), false)
	if err == nil {
		switch v.(type) {
		case int64, *big.Int, float64:
			return v, nil
		}
	}
	return nil, newError(ErrUnsupportedValue, -1, "json.Number "+quoteSnippet(string(n))+" is not a number")
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func normalizeReflect(rv reflect.Value, depth int) (any, error) {
	if !rv.IsValid() {
		return nil, nil
	}
	if depth >= DefaultMaxDepth {
		return nil, errTooDeepNorm()
	}
	t := rv.Type()
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) {
		if (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && rv.IsNil() {
			return nil, nil
		}
		return viaJSON(rv)
	}
	if t.PkgPath() == "html/template" && t.Name() == "HTML" {
		// The Go counterpart of markupsafe.Markup; matched by name so the
		// package does not need to import html/template.
		return Markup(rv.String()), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintModel(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), checkString(rv.String())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implementsAny(t.Elem()) {
			return append([]byte{}, rv.Bytes()...), nil
		}
		return normalizeElems(rv, depth)
	case reflect.Array:
		return normalizeElems(rv, depth)
	case reflect.Map:
		return normalizeReflectMap(rv, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		n, _, err := normalize(rv.Elem().Interface(), depth+1)
		return n, err
	case reflect.Struct:
		return viaJSON(rv)
	}
	return nil, unsupportedType(t)
}

func implementsAny(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType)
}

func unsupportedType(t reflect.Type) error {
	return newError(ErrUnsupportedType, -1, t.String())
}

// normalizeTyped is normalizeElems for a slice whose element type is known.
func normalizeTyped[T any](xs []T, depth int, elem func(T) (any, error)) (any, bool, error) {
	if depth >= DefaultMaxDepth {
		return nil, false, errTooDeepNorm()
	}
	out := make([]any, len(xs))
	for i, x := range xs {
		n, err := elem(x)
		if err != nil {
			return nil, false, err
		}
		out[i] = n
	}
	return out, true, nil
}

func normalizeElems(rv reflect.Value, depth int) (any, error) {
	out := make([]any, rv.Len())
	for i := range out {
		n, _, err := normalize(rv.Index(i).Interface(), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func normalizeReflectMap(rv reflect.Value, depth int) (any, error) {
	t := rv.Type()
	var key func(reflect.Value) string
	switch t.Key().Kind() {
	case reflect.String:
		key = reflect.Value.String
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		key = func(k reflect.Value) string { return strconv.FormatInt(k.Int(), 10) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		key = func(k reflect.Value) string { return strconv.FormatUint(k.Uint(), 10) }
	default:
		return nil, unsupportedType(t)
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		n, _, err := normalize(it.Value().Interface(), depth+1)
		if err != nil {
			return nil, err
		}
		k := key(it.Key())
		if err := checkString(k); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

// viaJSON runs a value through encoding/json and reads the JSON back into
// the model without untagging: the JSON is the value's own, not Flask's.
func viaJSON(rv reflect.Value) (any, error) {
	b, err := json.Marshal(rv.Interface())
	if err != nil {
		var ute *json.UnsupportedTypeError
		if errors.As(err, &ute) {
			return nil, unsupportedType(ute.Type)
		}
		return nil, newError(ErrUnsupportedValue, -1, rv.Type().String()+": "+err.Error())
	}
	return unmarshal(b, false)
}
