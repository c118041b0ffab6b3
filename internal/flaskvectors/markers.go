package flaskvectors

// Conversion between the vectors' value markers and taggedjson's Go model.
//
// The generator scripts describe Python values that JSON cannot express with
// one-key objects: {"$tuple":[..]}, {"$bytes_hex":".."}, {"$markup":".."},
// {"$uuid":".."}, {"$datetime":"<isoformat>"}, {"$float":"nan"|"inf"|"-inf"}.
// Numbers are ints or floats by their literal form ("1" vs "1.0"), as in
// Python.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// DecodeMarkers parses raw JSON from a vector (for example the value of
// inputs.value or result.value) and returns the model value it describes.
func DecodeMarkers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("flaskvectors: markers: %w", err)
	}
	return FromMarkers(v)
}

// FromMarkers converts a value decoded by encoding/json with UseNumber into
// the taggedjson model: json.Number → int64, *big.Int or float64 (by literal
// form), markers → taggedjson.Tuple, []byte, taggedjson.Markup,
// taggedjson.UUID, time.Time (UTC; a naive isoformat is taken as UTC;
// microseconds are kept) and float64 NaN/±Inf; lists → []any; objects →
// map[string]any.
func FromMarkers(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		return numberFromText(string(x))
	case float64: // decoded without UseNumber: keep what we can
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			m, err := FromMarkers(e)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				if strings.HasPrefix(k, "$") {
					return fromMarker(k, e)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			m, err := FromMarkers(e)
			if err != nil {
				return nil, err
			}
			out[k] = m
		}
		return out, nil
	}
	return nil, fmt.Errorf("flaskvectors: markers: unexpected %T", v)
}

func numberFromText(s string) (any, error) {
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("flaskvectors: markers: %w", err)
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("flaskvectors: markers: bad integer %q", s)
	}
	return b, nil
}

func fromMarker(k string, e any) (any, error) {
	str := func() (string, error) {
		s, ok := e.(string)
		if !ok {
			return "", fmt.Errorf("flaskvectors: markers: %s needs a string, got %T", k, e)
		}
		return s, nil
	}
	switch k {
	case "$tuple":
		l, ok := e.([]any)
		if !ok {
			return nil, fmt.Errorf("flaskvectors: markers: $tuple needs a list, got %T", e)
		}
		m, err := FromMarkers(l)
		if err != nil {
			return nil, err
		}
		return taggedjson.Tuple(m.([]any)), nil
	case "$bytes_hex":
		s, err := str()
		if err != nil {
			return nil, err
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("flaskvectors: markers: $bytes_hex: %w", err)
		}
		return b, nil
	case "$markup":
		s, err := str()
		return taggedjson.Markup(s), err
	case "$uuid":
		s, err := str()
		if err != nil {
			return nil, err
		}
		return taggedjson.ParseUUID(s)
	case "$datetime":
		s, err := str()
		if err != nil {
			return nil, err
		}
		return parseISO(s)
	case "$float":
		s, err := str()
		if err != nil {
			return nil, err
		}
		switch s {
		case "nan":
			return math.NaN(), nil
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		return nil, fmt.Errorf("flaskvectors: markers: $float %q", s)
	}
	return nil, fmt.Errorf("flaskvectors: markers: unknown marker %q", k)
}

// parseISO reads Python's datetime.isoformat(): naive (taken as UTC) or with
// a ±HH:MM offset, with or without microseconds.
func parseISO(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("flaskvectors: markers: bad $datetime %q", s)
}

// ToMarkers is the inverse of FromMarkers: it describes a model value as
// plain JSON data (json.Number for numbers, so that 1.0 stays a float).
func ToMarkers(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case *big.Int:
		return json.Number(x.String()), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return map[string]any{"$float": "nan"}, nil
		case math.IsInf(x, 1):
			return map[string]any{"$float": "inf"}, nil
		case math.IsInf(x, -1):
			return map[string]any{"$float": "-inf"}, nil
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return json.Number(s), nil
	case taggedjson.Markup:
		return map[string]any{"$markup": string(x)}, nil
	case taggedjson.UUID:
		return map[string]any{"$uuid": x.String()}, nil
	case []byte:
		return map[string]any{"$bytes_hex": hex.EncodeToString(x)}, nil
	case time.Time:
		layout := "2006-01-02T15:04:05-07:00"
		if x.Nanosecond() >= 1000 {
			layout = "2006-01-02T15:04:05.000000-07:00"
		}
		return map[string]any{"$datetime": x.UTC().Format(layout)}, nil
	case taggedjson.Tuple:
		l, err := ToMarkers([]any(x))
		if err != nil {
			return nil, err
		}
		return map[string]any{"$tuple": l}, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			m, err := ToMarkers(e)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			m, err := ToMarkers(e)
			if err != nil {
				return nil, err
			}
			out[k] = m
		}
		return out, nil
	}
	return nil, fmt.Errorf("flaskvectors: markers: %T is not a model value", v)
}

// MarkersString renders a model value in marker JSON (keys sorted), for
// test failure messages. It never fails: non-model values are shown with %#v.
func MarkersString(v any) string {
	m, err := ToMarkers(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// Equal reports whether two model values are the same Python value, as a
// round trip must preserve it:
//   - types must match: a Tuple never equals a []any, a Markup never a string,
//     an int never a float;
//   - int64 and *big.Int compare by value (either representation);
//   - float64 compares bits, except that every NaN equals every NaN (so 0.0
//     and -0.0 differ, as their repr does);
//   - time.Time compares instants; []byte by content;
//   - nil and empty maps, lists, tuples and byte slices are equal to empty ones.
//
// Values outside the model fall back to reflect.DeepEqual.
func Equal(a, b any) bool { return Diff(a, b) == "" }

// Diff returns "" when Equal(a, b), and otherwise the path of the first
// difference found with both sides in marker form.
func Diff(a, b any) string { return diff(a, b, "$") }

func diff(a, b any, path string) string {
	differ := func() string {
		return fmt.Sprintf("%s: %s != %s", path, MarkersString(a), MarkersString(b))
	}
	if ai, ok := asBig(a); ok {
		if bi, ok := asBig(b); ok && ai.Cmp(bi) == 0 {
			return ""
		}
		return differ()
	}
	switch x := a.(type) {
	case nil:
		if b == nil {
			return ""
		}
	case float64:
		if y, ok := b.(float64); ok && (math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))) {
			return ""
		}
	case time.Time:
		if y, ok := b.(time.Time); ok && x.Equal(y) {
			return ""
		}
	case []byte:
		if y, ok := b.([]byte); ok && bytes.Equal(x, y) {
			return ""
		}
	case []any:
		if y, ok := b.([]any); ok {
			return diffList(x, y, path)
		}
	case taggedjson.Tuple:
		if y, ok := b.(taggedjson.Tuple); ok {
			return diffList(x, y, path)
		}
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			return diffMap(x, y, path)
		}
	default:
		if reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.DeepEqual(a, b) {
			return ""
		}
	}
	return differ()
}

func asBig(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, x != nil
	}
	return nil, false
}

func diffList(a, b []any, path string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%s: length %d != %d", path, len(a), len(b))
	}
	for i := range a {
		if d := diff(a[i], b[i], path+"["+strconv.Itoa(i)+"]"); d != "" {
			return d
		}
	}
	return ""
}

func diffMap(a, b map[string]any, path string) string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path + "[" + strconv.Quote(k) + "]"
		av, aok := a[k]
		bv, bok := b[k]
		switch {
		case !aok:
			return p + ": missing on the left"
		case !bok:
			return p + ": missing on the right"
		}
		if d := diff(av, bv, p); d != "" {
			return d
		}
	}
	return ""
}
