package taggedjson

import (
	"encoding"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"
)

// Convert stores the model value v (as returned by Unmarshal or Normalize)
// in *dst, converting where the meaning is unambiguous. dst must be a
// non-nil pointer.
//
//   - If v's type is assignable to *dst's, v is assigned (this covers *any and
//     every model type; a Tuple also goes into a []any).
//   - Integers (int64, *big.Int) go into every integer kind if they fit, into
//     *big.Int, and into floats if the conversion is exact. A float64 goes
//     into float32 (rounded, but overflow is an error) and into an integer
//     kind only when it is integral and in range: Python code freely stores
//     3600.0 where Go wants 3600, but 1.5 or NaN there is a bug worth an
//     error.
//   - string and Markup convert into each other and into named string kinds.
//   - []any and Tuple go into []T or [N]T (same length) element by element;
//     map[string]any into map[K]T, K a string kind or an integer kind (keys
//     parsed in decimal); []byte into []byte kinds; UUID into [16]byte.
//   - None goes into pointers, maps, slices and interfaces as nil.
//   - Pointers are allocated as needed.
//   - Anything else (structs, types with UnmarshalJSON or UnmarshalText) goes
//     through encoding/json: v is written as standard JSON (tuples as arrays,
//     bytes as base64, UUIDs and datetimes as strings) and decoded into *dst.
//
// Failures wrap ErrTypeMismatch and name both types and the path of the
// element that did not fit.
func Convert(v any, dst any) error {
	if convertFast(v, dst) {
		return nil
	}
	return convertReflect(v, dst)
}

// convertReflect is Convert's reflection path, for what convertFast did not
// take.
func convertReflect(v any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return newError(ErrTypeMismatch, -1, "Convert needs a non-nil pointer, got "+typeName(dst))
	}
	return convert(v, rv.Elem(), "")
}

// ConvertTo returns the model value v converted to T, by Convert's rules.
// It is Convert for callers that want the value rather than fill a
// variable: the common conversions (an int64 to int, a list to []int or
// []string, ...) then cost no allocation for the result.
func ConvertTo[T any](v any) (T, error) {
	if t, ok := v.(T); ok {
		return t, nil
	}
	var t T
	if convertFast(v, &t) {
		return t, nil
	}
	return convertSlow[T](v)
}

// convertSlow is the reflection path of ConvertTo, apart so that its
// variable, which escapes, is allocated only when it runs. convertFast has
// already declined v.
func convertSlow[T any](v any) (T, error) {
	var t T
	err := convertReflect(v, &t)
	return t, err
}

// convertFast does Convert for the common targets without reflection, and
// reports whether it did. It only writes through dst, never keeps it, so a
// caller's &t does not escape to the heap (see ConvertTo).
func convertFast(v any, dst any) bool {
	switch p := dst.(type) {
	case *any:
		if p != nil {
			*p = v
			return true
		}
	case *string:
		if p != nil {
			switch x := v.(type) {
			case string:
				*p = x
				return true
			case Markup:
				*p = string(x)
				return true
			}
		}
	case *int64:
		if x, ok := v.(int64); ok && p != nil {
			*p = x
			return true
		}
	case *int:
		if x, ok := v.(int64); ok && p != nil && int64(int(x)) == x {
			*p = int(x)
			return true
		}
	case *bool:
		if x, ok := v.(bool); ok && p != nil {
			*p = x
			return true
		}
	case *float64:
		if x, ok := v.(float64); ok && p != nil {
			*p = x
			return true
		}
	case *map[string]any:
		if x, ok := v.(map[string]any); ok && p != nil {
			*p = x
			return true
		}
	case *[]int:
		// Lists of ints and strings are what sessions hold most (carts,
		// ids, roles); reflection costs two allocations and a string per
		// element for the path. Anything unusual (floats, overflow, other
		// element types) takes the general path and its error messages.
		if l, ok := listOf(v); ok && p != nil {
			if out, ok := intList(l); ok {
				*p = out
				return true
			}
		}
	case *[]string:
		if l, ok := listOf(v); ok && p != nil {
			if out, ok := stringList(l); ok {
				*p = out
				return true
			}
		}
	}
	return false
}

var (
	bigIntType          = reflect.TypeFor[big.Int]()
	timeType            = reflect.TypeFor[time.Time]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

func mismatch(v any, t reflect.Type, path, why string) error {
	msg := "cannot convert " + typeName(v) + " to " + t.String()
	if path != "" {
		msg += " at " + path
	}
	if why != "" {
		msg += ": " + why
	}
	return newError(ErrTypeMismatch, -1, msg)
}

// convert stores v in dst, which is settable.
func convert(v any, dst reflect.Value, path string) error {
	t := dst.Type()
	if v == nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			dst.SetZero()
			return nil
		}
		return mismatch(v, t, path, "")
	}
	vt := reflect.TypeOf(v)
	if vt.AssignableTo(t) {
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	if t == bigIntType {
		switch x := v.(type) {
		case int64:
			dst.Set(reflect.ValueOf(big.NewInt(x)).Elem())
			return nil
		case *big.Int:
			dst.Set(reflect.ValueOf(new(big.Int).Set(x)).Elem())
			return nil
		}
		return mismatch(v, t, path, "")
	}
	if t.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(t.Elem()))
		}
		return convert(v, dst.Elem(), path)
	}
	if t != timeType && t.Kind() != reflect.Interface {
		if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
			return convertJSON(v, dst, path)
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		if x, ok := v.(bool); ok {
			dst.SetBool(x)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, why, ok := toInt64(v)
		if ok && !dst.OverflowInt(n) {
			dst.SetInt(n)
			return nil
		}
		if ok {
			why = "overflow"
		}
		if why != "" {
			return mismatch(v, t, path, why)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, why, ok := toUint64(v)
		if ok && !dst.OverflowUint(u) {
			dst.SetUint(u)
			return nil
		}
		if ok {
			why = "overflow"
		}
		if why != "" {
			return mismatch(v, t, path, why)
		}
	case reflect.Float32, reflect.Float64:
		f, why, ok := toFloat64(v)
		if ok && t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
			ok, why = false, "overflow"
		}
		if ok {
			dst.SetFloat(f)
			return nil
		}
		if why != "" {
			return mismatch(v, t, path, why)
		}
	case reflect.String:
		switch x := v.(type) {
		case string:
			dst.SetString(x)
			return nil
		case Markup:
			dst.SetString(string(x))
			return nil
		}
	case reflect.Slice:
		if b, ok := v.([]byte); ok && t.Elem().Kind() == reflect.Uint8 {
			dst.SetBytes(append([]byte{}, b...))
			return nil
		}
		if l, ok := listOf(v); ok {
			s := reflect.MakeSlice(t, len(l), len(l))
			for i, e := range l {
				if err := convert(e, s.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
			dst.Set(s)
			return nil
		}
	case reflect.Array:
		if u, ok := v.(UUID); ok && t.Len() == 16 && t.Elem().Kind() == reflect.Uint8 {
			dst.Set(reflect.ValueOf(u).Convert(t))
			return nil
		}
		if l, ok := listOf(v); ok {
			if len(l) != t.Len() {
				return mismatch(v, t, path, "length "+strconv.Itoa(len(l)))
			}
			for i, e := range l {
				if err := convert(e, dst.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
			return nil
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			return convertMap(m, dst, path)
		}
	case reflect.Interface:
		// Non-empty interfaces (the empty one took the assignable path).
		return mismatch(v, t, path, "")
	case reflect.Struct:
		return convertJSON(v, dst, path)
	}
	return mismatch(v, t, path, "")
}

// intList converts a list whose elements are all int64 values that fit an
// int; ok is false for anything else.
func intList(l []any) ([]int, bool) {
	out := make([]int, len(l))
	for i, e := range l {
		n, ok := e.(int64)
		if !ok || int64(int(n)) != n {
			return nil, false
		}
		out[i] = int(n)
	}
	return out, true
}

// stringList converts a list whose elements are all strings (or Markup).
func stringList(l []any) ([]string, bool) {
	out := make([]string, len(l))
	for i, e := range l {
		switch x := e.(type) {
		case string:
			out[i] = x
		case Markup:
			out[i] = string(x)
		default:
			return nil, false
		}
	}
	return out, true
}

func listOf(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case Tuple:
		return x, true
	}
	return nil, false
}

func convertMap(m map[string]any, dst reflect.Value, path string) error {
	t := dst.Type()
	kt := t.Key()
	out := reflect.MakeMapWithSize(t, len(m))
	for k, e := range m {
		kv := reflect.New(kt).Elem()
		switch kt.Kind() {
		case reflect.String:
			kv.SetString(k)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil || kv.OverflowInt(n) {
				return mismatch(m, t, path, "key "+quoteSnippet(k))
			}
			kv.SetInt(n)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			n, err := strconv.ParseUint(k, 10, 64)
			if err != nil || kv.OverflowUint(n) {
				return mismatch(m, t, path, "key "+quoteSnippet(k))
			}
			kv.SetUint(n)
		default:
			return mismatch(m, t, path, "")
		}
		ev := reflect.New(t.Elem()).Elem()
		if err := convert(e, ev, path+"["+quoteSnippet(k)+"]"); err != nil {
			return err
		}
		out.SetMapIndex(kv, ev)
	}
	dst.Set(out)
	return nil
}

// convertJSON is the encoding/json fallback.
func convertJSON(v any, dst reflect.Value, path string) error {
	b, err := marshalPlain(v)
	if err != nil {
		return mismatch(v, dst.Type(), path, err.Error())
	}
	if err := json.Unmarshal(b, dst.Addr().Interface()); err != nil {
		return mismatch(v, dst.Type(), path, "encoding/json: "+err.Error())
	}
	return nil
}

// toInt64 returns v as an int64 when it is an integer in range or an
// integral float in range. why explains a numeric failure; it is empty when
// v is not a number at all.
func toInt64(v any) (n int64, why string, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, "", true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), "", true
		}
		return 0, "overflow", false
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) {
			return 0, "not an integral value", false
		}
		if x < -9.223372036854775808e18 || x >= 9.223372036854775808e18 {
			return 0, "overflow", false
		}
		return int64(x), "", true
	}
	return 0, "", false
}

func toUint64(v any) (u uint64, why string, ok bool) {
	switch x := v.(type) {
	case *big.Int:
		if x.IsUint64() {
			return x.Uint64(), "", true
		}
		return 0, "overflow", false
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) && x == math.Trunc(x) && x >= 0 && x < 1.8446744073709551616e19 {
			return uint64(x), "", true
		}
	}
	n, why, ok := toInt64(v)
	if ok && n < 0 {
		return 0, "overflow", false
	}
	return uint64(n), why, ok
}

// toFloat64 converts floats, and integers that a float64 holds exactly.
func toFloat64(v any) (f float64, why string, ok bool) {
	switch x := v.(type) {
	case float64:
		return x, "", true
	case int64:
		f := float64(x)
		if f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 && int64(f) == x {
			return f, "", true
		}
		return 0, "not exactly representable", false
	case *big.Int:
		f, acc := new(big.Float).SetInt(x).Float64()
		if acc == big.Exact {
			return f, "", true
		}
		return 0, "not exactly representable", false
	}
	return 0, "", false
}
