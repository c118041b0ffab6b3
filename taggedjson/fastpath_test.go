package taggedjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// plainRunRef is plainRun one byte at a time.
func plainRunRef(s string, i int) int {
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// Every byte value at every position of two words, from every start.
func TestPlainRunEveryByte(t *testing.T) {
	base := []byte("abcdefghijklmnopq~ !")
	for p := range base {
		for c := 0; c < 256; c++ {
			b := append([]byte(nil), base...)
			b[p] = byte(c)
			s := string(b)
			for i := 0; i <= len(s); i++ {
				if got, want := plainRun(s, i), plainRunRef(s, i); got != want {
					t.Fatalf("plainRun(%q, %d) = %d, want %d", s, i, got, want)
				}
			}
		}
	}
}

// trickyStrings mixes what the fast paths must stop at (quotes,
// backslashes, controls, DEL, non-ASCII, WTF-8 surrogates, invalid UTF-8)
// at every offset around the 8-byte words they scan.
func trickyStrings() []string {
	specials := []string{`"`, `\`, "\x00", "\x1f", "\n", "\t", "\x7f", "\x80", "é", "\u2028",
		"😀", "\xed\xa0\x80", "\xed\xbf\xbf", "\xff", "\xc3", "\xe2\x82", "~", " ", "/"}
	var out []string
	for _, sp := range specials {
		for n := 0; n <= 17; n++ {
			pre := strings.Repeat("a", n)
			out = append(out, pre+sp, sp+pre, pre+sp+pre, pre+sp+sp+"0123456789abcdef")
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(40) {
			if rng.IntN(4) == 0 {
				b.WriteString(specials[rng.IntN(len(specials))])
			} else {
				b.WriteByte(byte(' ' + rng.IntN(95)))
			}
		}
		out = append(out, b.String())
	}
	return out
}

// appendStringRef is appendString one code point at a time, written
// differently on purpose: a table of Python's escapes, fmt for the rest.
func appendStringRef(dst []byte, s string) ([]byte, bool) {
	short := map[rune]string{'"': `\"`, '\\': `\\`, '\n': `\n`, '\r': `\r`, '\t': `\t`, '\b': `\b`, '\f': `\f`}
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sr, ok := surrogateAt(s, i)
			if !ok {
				return nil, false
			}
			r, size = sr, 3
		}
		i += size
		switch {
		case short[r] != "":
			dst = append(dst, short[r]...)
		case 0x20 <= r && r < 0x7f:
			dst = append(dst, byte(r))
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			dst = fmt.Appendf(dst, `\u%04x\u%04x`, r1, r2)
		default:
			dst = fmt.Appendf(dst, `\u%04x`, r)
		}
	}
	return append(dst, '"'), true
}

func TestAppendStringMatchesReference(t *testing.T) {
	for _, s := range trickyStrings() {
		got, err := appendString([]byte("x"), s)
		want, ok := appendStringRef([]byte("x"), s)
		if (err == nil) != ok || (ok && string(got) != string(want)) {
			t.Fatalf("appendString(%q) = %q, %v; want %q, %v", s, got, err, want, ok)
		}
	}
}

// The decoder's string fast path against encoding/json, on JSON string
// texts made of the tricky strings raw (controls, quotes and invalid UTF-8
// make some invalid) and escaped in every way. encoding/json replaces
// invalid UTF-8 and lone surrogates where Python keeps or rejects them, so
// those inputs are compared with the round trip through Marshal instead.
func TestDecodeStringMatchesReference(t *testing.T) {
	for _, s := range trickyStrings() {
		esc, err := appendString(nil, s)
		texts := []string{`"` + s + `"`, `"` + s + `\n` + s + `"`}
		if err == nil {
			texts = append(texts, string(esc), `["`+s+`",`+string(esc)+`]`)
			// The same escapes with upper-case hex digits, which Python
			// also reads.
			texts = append(texts, strings.ReplaceAll(string(esc), `\ud83d`, `\uD83D`))
		}
		for _, text := range texts {
			got, gerr := Unmarshal([]byte(text))
			if !utf8.ValidString(text) || strings.Contains(text, `\ud8`) || strings.Contains(text, `\ud9`) ||
				strings.Contains(text, `\uda`) || strings.Contains(text, `\udb`) || strings.Contains(text, `\udc`) ||
				strings.Contains(text, `\udd`) || strings.Contains(text, `\ude`) || strings.Contains(text, `\udf`) {
				if gerr == nil {
					b, err := Marshal(got)
					if err != nil {
						t.Fatalf("Marshal(Unmarshal(%q)): %v", text, err)
					}
					if again, err := Unmarshal(b); err != nil || !equalModel(again, got) {
						t.Fatalf("%q: round trip via %q gives %q, %v", text, b, again, err)
					}
				}
				if utf8.ValidString(text) || gerr != nil {
					continue
				}
				t.Fatalf("Unmarshal(%q) accepted invalid UTF-8", text)
			}
			var want any
			werr := json.Unmarshal([]byte(text), &want)
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("Unmarshal(%q): err %v, encoding/json err %v", text, gerr, werr)
			}
			if gerr == nil && !equalModel(got, want) {
				t.Fatalf("Unmarshal(%q) = %q, encoding/json %q", text, got, want)
			}
		}
	}
	if _, err := Unmarshal([]byte(`"abc`)); err == nil {
		t.Fatal("unterminated string accepted")
	}
}

// equalModel compares strings and lists of strings, all these tests make.
func equalModel(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalModel(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// Objects up to smallObject members are sorted on the stack, larger ones
// with slices.SortFunc: both must give Python's order (code points, which
// is byte order of UTF-8 and WTF-8) at every size across the boundary.
func TestObjectKeyOrderEverySize(t *testing.T) {
	keys := []string{"", "a", "A", "_id", "_fresh", " t", " t__", "é", "e\u0301", "😀", "\uffff",
		"\xed\xa0\x80", "\xed\xbf\xbf", "z", "zz", "10", "9", "a\x00", "a\"", `a\`, "_user_id", "csrf_token",
		"_permanent", "_permanently", "abcdefg", "abcdefg\x00", "abcdefgh", "abcdefgh\x00", "abcdefghi", "\x00", "\U0010ffff"}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= len(keys); n++ {
		for range 20 {
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			m := map[string]any{}
			for i, k := range keys[:n] {
				m[k] = int64(i)
			}
			if n == 1 && isTag(keys[0]) {
				continue // escaped as {" di":...}, tested elsewhere
			}
			sorted := append([]string(nil), keys[:n]...)
			slices.Sort(sorted)
			want := []byte("{")
			for i, k := range sorted {
				if i > 0 {
					want = append(want, ',')
				}
				want, _ = appendString(want, k)
				want = strconv.AppendInt(append(want, ':'), m[k].(int64), 10)
			}
			want = append(want, '}')
			got, err := Marshal(map[string]any{"x": m, "y": []any{m}})
			if err != nil {
				t.Fatal(err)
			}
			if w := `{"x":` + string(want) + `,"y":[` + string(want) + `]}`; string(got) != w {
				t.Fatalf("%d keys: got %s, want %s", n, got, w)
			}
		}
	}
}

// Marshal writes plain strings, int64, bool and nil without the encoder;
// AppendMarshal always takes the encoder.
func TestMarshalScalarFastPath(t *testing.T) {
	values := []any{nil, true, false, int64(0), int64(-1), int64(255), int64(256), int64(1) << 62,
		int64(-1 << 63), int64(1<<63 - 1), int64(-9223372036854775807)}
	for _, s := range trickyStrings() {
		values = append(values, s)
	}
	for _, v := range values {
		got, gerr := Marshal(v)
		want, werr := AppendMarshal(nil, v)
		if (gerr == nil) != (werr == nil) || string(got) != string(want) {
			t.Fatalf("Marshal(%#v) = %q, %v; AppendMarshal %q, %v", v, got, gerr, want, werr)
		}
	}
}

// Unmarshal reads the simplest scalar documents without the decoder.
func TestUnmarshalScalarFastPath(t *testing.T) {
	inputs := []string{"", "0", "-0", "00", "-00", "01", "-", "--1", "+1", "1", "-1", "42", " 42", "42 ", "42\n",
		"1.0", "1e5", "1E5", "-1.5e3", "0x1", "1_0", "12a", "123456789012345678", "-123456789012345678",
		"999999999999999999", "1234567890123456789", "-1234567890123456789", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "true", "false", "null",
		"true ", " true", "tru", "truee", "True", "nulL", "NaN", "-Infinity", "Infinity", `"x"`, "[]", "{}",
		// Strings: the plain ones skip the decoder, the rest must not.
		`""`, `"`, `"""`, `"a"b"`, `"a\"`, `"a\"b"`, `"\u0041"`, `"\n"`, "\"a\x00\"", "\"a\x1f\"", "\"\x7f\"",
		"\"\xc3\xa9\"", "\"\xff\"", "\"\xed\xa0\x80\"", ` "a"`, `"a" `, `"a"x`, `x"a"`, `"~ !#$%&'()*+,-./0123456789:;<=>?@[]^_{|}"`,
		`"3f786850e387550fdab836ed7e6dc881de23001b"`, `{" t":"x"}`, `["a"]`}
	for _, in := range inputs {
		checkFastPaths(t, []byte(in))
	}
}

// checkFastPaths fails when Unmarshal's fast paths read data differently
// from the decoder.
func checkFastPaths(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := Unmarshal(data)
	want, werr := unmarshal(data, true)
	if (gerr == nil) != (werr == nil) || fmt.Sprintf("%T %#v", got, got) != fmt.Sprintf("%T %#v", want, want) {
		t.Fatalf("Unmarshal(%q) = %#v, %v; decoder %#v, %v", data, got, gerr, want, werr)
	}
}

// FuzzUnmarshalFastPaths compares Unmarshal, with its scalar and plain-string
// shortcuts, with the decoder alone on any input.
func FuzzUnmarshalFastPaths(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\u00e9"`, "\"\xc3\xa9\"", `42`, `-0`, `true`, `""`, `"a`} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkFastPaths)
}

// Arrays and objects are collected on the stack up to smallArray and
// smallObject entries and continue in the pooled decoder's slices past
// that: every size across the boundary, nested, with duplicate keys, tags,
// key order and errors half-way, must read as before.
func TestDecodeContainersEverySize(t *testing.T) {
	for n := 0; n <= 3*smallObject+1; n++ {
		list := make([]any, n)
		obj := map[string]any{}
		var keys, dup []string
		for i := range n {
			k := fmt.Sprintf("k%02d", n-i) // document order differs from sorted order
			list[i] = []any{int64(i), "s" + k, map[string]any{"n": int64(i), "m": make([]any, i)}}
			obj[k] = list[i]
			keys = append(keys, k)
			dup = append(dup, `"`+k+`":`+strconv.Itoa(i), `"`+k+`":`+strconv.Itoa(-i))
		}
		v := map[string]any{"list": list, "obj": obj, "x": []any{list, obj}}
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if b2, err := Marshal(got); err != nil || string(b2) != string(b) {
			t.Fatalf("%d: round trip %s\ngave %s, %v", n, b, b2, err)
		}
		// Duplicates: the last value wins, and len counts keys once.
		got, err = Unmarshal([]byte("{" + strings.Join(dup, ",") + "}"))
		if m, ok := got.(map[string]any); err != nil || !ok || len(m) != n {
			t.Fatalf("%d duplicates: %#v, %v", n, got, err)
		}
		for i, k := range keys {
			if got.(map[string]any)[k] != int64(-i) {
				t.Fatalf("%d duplicates: %s = %v", n, k, got.(map[string]any)[k])
			}
		}
		if n == 0 {
			continue
		}
		// tuple(dict) lists the keys in document order; a repeated tag
		// key is still a tag (the last value wins).
		objText := "{" + strings.Join(dup, ",") + "}"
		tagged := strings.Repeat(`" t":[0],`, n-1) + `" t":` + objText
		got, err = Unmarshal([]byte("[{" + tagged + "}]"))
		want := make(Tuple, n)
		for i, k := range keys {
			want[i] = k
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint([]any{want}) {
			t.Fatalf("%d: tuple of keys %v, %v; want %v", n, got, err, want)
		}
		// An error after n entries leaves no scratch behind for the
		// next document read by the pooled decoder.
		for _, bad := range []string{`[` + strings.Repeat(`1,`, n) + `x]`, objText[:len(objText)-1] + `,"a" 1}`} {
			if _, err := Unmarshal([]byte(`{"a":` + bad + `}`)); err == nil {
				t.Fatalf("%s accepted", bad)
			}
			if got, err := Unmarshal(b); err != nil || fmt.Sprint(got) != fmt.Sprint(v) {
				t.Fatalf("%d: after an error: %v", n, err)
			}
		}
	}
}

// The typed cases of normalize ([]string, []int, []int64, []float64,
// map[string]string) give what the reflect path gives for the same value:
// the same model, or an error of the same kind, at every depth.
func TestNormalizeTypedCasesMatchReflect(t *testing.T) {
	bad := string([]byte{'a', 0xff})
	values := []any{
		[]string(nil), []string{}, []string{"a", "", "é", "\U0001F600"}, []string{"ok", bad},
		[]int(nil), []int{}, []int{1, 2, 3}, []int{-1, 255, 256, math.MaxInt, math.MinInt},
		[]int64(nil), []int64{math.MaxInt64, math.MinInt64, 0},
		[]float64(nil), []float64{0, -0.5, 1e300, math.Inf(1), math.NaN()},
		map[string]string(nil), map[string]string{}, map[string]string{"a": "b", "": "c"},
		map[string]string{"k": bad}, map[string]string{bad: "v"},
	}
	for _, v := range values {
		for _, depth := range []int{0, DefaultMaxDepth - 1, DefaultMaxDepth} {
			got, changed, err := normalize(v, depth)
			want, werr := normalizeReflect(reflect.ValueOf(v), depth)
			name := fmt.Sprintf("%T %#v at depth %d", v, v, depth)
			if (err == nil) != (werr == nil) {
				t.Fatalf("%s: error %v, reflect path %v", name, err, werr)
			}
			if err != nil {
				for _, kind := range []error{ErrTooDeep, ErrUnsupportedValue} {
					if errors.Is(err, kind) != errors.Is(werr, kind) {
						t.Fatalf("%s: error %v, reflect path %v", name, err, werr)
					}
				}
				continue
			}
			if !changed {
				t.Errorf("%s: reported unchanged, but the model type differs", name)
			}
			if !sameModel(got, want) {
				t.Errorf("%s: %#v, reflect path %#v", name, got, want)
			}
		}
	}
}

// sameModel is reflect.DeepEqual that holds NaN equal to NaN.
func sameModel(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || fa != fa && fb != fb)
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameModel(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameModel(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
