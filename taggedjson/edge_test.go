package taggedjson_test

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/internal/flaskvectors"
	"github.com/seshat-go/seshat/taggedjson"
)

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := taggedjson.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%s): %v", flaskvectors.MarkersString(v), err)
	}
	return string(b)
}

func mustUnmarshal(t *testing.T, s string) any {
	t.Helper()
	v, err := taggedjson.Unmarshal([]byte(s))
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", s, err)
	}
	return v
}

// roundTrip checks Marshal(v) == want and Unmarshal(want) == v.
func roundTrip(t *testing.T, v any, want string) {
	t.Helper()
	if got := mustMarshal(t, v); got != want {
		t.Fatalf("Marshal(%s)\n got %s\nwant %s", flaskvectors.MarkersString(v), got, want)
	}
	if d := flaskvectors.Diff(mustUnmarshal(t, want), v); d != "" {
		t.Fatalf("Unmarshal(%s): %s", want, d)
	}
}

func TestDictEscape(t *testing.T) {
	for _, tag := range []string{" t", " di", " b", " m", " u", " d"} {
		// A user dict whose only key is a tag key is escaped...
		roundTrip(t, map[string]any{tag: int64(1)}, `{" di":{"`+tag+`__":1}}`)
		// ...also nested, and its value is tagged as usual.
		roundTrip(t, []any{map[string]any{tag: taggedjson.Tuple{"x"}}}, `[{" di":{"`+tag+`__":{" t":["x"]}}}]`)
		roundTrip(t, map[string]any{tag: map[string]any{tag: "v"}}, `{" di":{"`+tag+`__":{" di":{"`+tag+`__":"v"}}}}`)
		// With two or more keys it is never escaped.
		roundTrip(t, map[string]any{tag: int64(1), "a": int64(2)}, `{"`+tag+`":1,"a":2}`)
	}
	// Keys that only look like tags are not escaped.
	for _, k := range []string{" x", "t", " T", " t ", "  t", " di_", " ", ""} {
		roundTrip(t, map[string]any{k: int64(1)}, `{"`+k+`":1}`)
	}
}

func TestTagsOnInput(t *testing.T) {
	u := taggedjson.UUID{0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78}
	for _, c := range []struct {
		in   string
		want any
	}{
		{`{" u":"12345678-1234-5678-1234-567812345678"}`, u}, // dashed form
		{`{" u":"{12345678-1234-5678-1234-567812345678}"}`, u},
		{`{" u":"urn:uuid:12345678123456781234567812345678"}`, u},
		{`{" u":"12345678123456781234567812345678"}`, u},
		{`{" u":"12345678123456781234567812345678"}`, u},
		{`{" t":"ab"}`, taggedjson.Tuple{"a", "b"}},
		{`{" t":{"b":1,"a":2,"b":3}}`, taggedjson.Tuple{"b", "a"}}, // dict keys in document order
		{`{" t":{" b":"YWI="}}`, taggedjson.Tuple{int64(97), int64(98)}},
		{`{" di":{"b__":1,"a__":2}}`, map[string]any{"b": int64(1)}}, // first key wins
		{`{" di":{"x":1}}`, map[string]any{"": int64(1)}},            // key[:-2] of a short key
		{`{" di":{"\u00e9\u00e9\u00e9":1}}`, map[string]any{"\u00e9": int64(1)}},
		{`{" b":"AP8Q=w6k="}`, []byte{0, 0xff, 0x10, 0xc3, 0xa9}}, // stray '=' skipped
		{`{" b":"!"}`, []byte{}},
		{`{" m":5}`, taggedjson.Markup("5")},
		{`{" m":null}`, taggedjson.Markup("None")},
		{`{" m":1e300}`, taggedjson.Markup("1e+300")},
		{`{" m":NaN}`, taggedjson.Markup("nan")},
		{`{" m":{" d":"Tue, 02 Jan 2024 03:04:05 +0200"}}`, taggedjson.Markup("2024-01-02 03:04:05+02:00")},
		{`{" m":{" b":"J2Ei"}}`, taggedjson.Markup(`b'\'a"'`)},
		{`{" d":null}`, nil},
		{`{" d":""}`, nil},
		{`{" d":0}`, nil},
		{`{" x":1}`, map[string]any{" x": int64(1)}}, // unknown tag
		{`{" t":[1]," t":[2]}`, taggedjson.Tuple{int64(2)}},
	} {
		got := mustUnmarshal(t, c.in)
		if d := flaskvectors.Diff(got, c.want); d != "" {
			t.Errorf("Unmarshal(%s): %s", c.in, d)
		}
	}
	for _, in := range []string{`{" t":5}`, `{" t":null}`, `{" di":{}}`, `{" di":[1]}`, `{" b":"AP8Qw6k"}`,
		`{" b":"\u00e9"}`, `{" b":5}`, `{" u":"zz"}`, `{" u":5}`, `{" d":5}`, `{" d":true}`, `{" m":[1]}`,
		`{" d":"Tue, 02 Jan 99999999999 03:04:05"}`} {
		if _, err := taggedjson.Unmarshal([]byte(in)); !errors.Is(err, taggedjson.ErrInvalidTag) {
			t.Errorf("Unmarshal(%s) error = %v, want ErrInvalidTag", in, err)
		}
	}
}

func TestDatetimes(t *testing.T) {
	want := `{"d":{" d":"Tue, 02 Jan 2024 01:04:05 GMT"}}`
	instant := time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)
	for _, tm := range []time.Time{
		instant,
		instant.Add(999999999 * time.Nanosecond), // fraction dropped, not rounded
		time.Date(2024, 1, 2, 3, 4, 5, 678901000, time.FixedZone("", 2*3600)),
		time.Date(2024, 1, 1, 20, 4, 5, 0, time.FixedZone("EST", -5*3600)),
	} {
		if got := mustMarshal(t, map[string]any{"d": tm}); got != want {
			t.Errorf("Marshal(%v) = %s, want %s", tm, got, want)
		}
	}
	back := mustUnmarshal(t, want).(map[string]any)["d"].(time.Time)
	if back != instant { // exactly: UTC location, no monotonic reading
		t.Errorf("Unmarshal = %#v, want %#v", back, instant)
	}
	// Four-digit zero-padded years, as Python's %04d.
	if got := mustMarshal(t, time.Date(5, 3, 1, 0, 0, 0, 0, time.UTC)); got != `{" d":"Tue, 01 Mar 0005 00:00:00 GMT"}` {
		t.Errorf("year 5: %s", got)
	}
	for _, tm := range []time.Time{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := taggedjson.Marshal(tm); !errors.Is(err, taggedjson.ErrUnsupportedValue) {
			t.Errorf("Marshal(%v) error = %v, want ErrUnsupportedValue", tm, err)
		}
	}
}

// TestParseDate documents what {" d": ...} accepts. Flask writes only the
// first form; the rest is what Werkzeug's parse_date (email.utils) also
// takes, checked against Python in pyvectors.json.
func TestParseDate(t *testing.T) {
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	for _, c := range []struct {
		in   string
		want any
	}{
		{"Tue, 02 Jan 2024 03:04:05 GMT", at(2024, 1, 2, 3, 4, 5)},                 // what Flask writes
		{"Tuesday, 02-Jan-24 03:04:05 GMT", at(2024, 1, 2, 3, 4, 5)},               // RFC 850
		{"Tue Jan  2 03:04:05 2024", at(2024, 1, 2, 3, 4, 5)},                      // asctime
		{"02 Jan 2024 03:04:05", at(2024, 1, 2, 3, 4, 5)},                          // no day name, no zone: UTC
		{"Wed, 02 Jan 2024 03:04:05 GMT", at(2024, 1, 2, 3, 4, 5)},                 // wrong day name ignored
		{"Tue, 02 Jan 2024 03:04:05 +0200", at(2024, 1, 2, 1, 4, 5)},               // offsets converted to UTC
		{"Tue, 02 Jan 2024 03:04:05 EST", at(2024, 1, 2, 8, 4, 5)},                 // US zone names
		{"Tue, 02 Jan 2024 03:04:05 -0000", at(2024, 1, 2, 3, 4, 5)},               // "unknown zone" = UTC
		{"Tue, 02 Jan 2024 03:04 GMT", at(2024, 1, 2, 3, 4, 0)},                    // no seconds
		{"Tue, 02 Jan 2024 03.04.05 GMT", at(2024, 1, 2, 3, 4, 5)},                 // '.' separators
		{"Sun, 02 Jan 69 03:04:05 GMT", at(1969, 1, 2, 3, 4, 5)},                   // two-digit years
		{"Tue, 02 Jan 68 03:04:05 GMT", at(2068, 1, 2, 3, 4, 5)},                   //
		{"Tue, 02 Jan \u0662\u0660\u0662\u0664 03:04:05", at(2024, 1, 2, 3, 4, 5)}, // Unicode digits, as int()
		{"Tue, 02 Jan 2024 03:04:60 GMT", nil},                                     // leap second: Python's datetime refuses → None
		{"Tue, 30 Feb 2024 03:04:05 GMT", nil},
		{"Tue, 02 Jan 2024 03:04:05 +2400", nil}, // offset out of range → None
		{"2024-01-02T03:04:05Z", nil},            // ISO 8601 is not an e-mail date
		{"not a date", nil},
	} {
		got := mustUnmarshal(t, `{" d":"`+c.in+`"}`)
		if d := flaskvectors.Diff(got, c.want); d != "" {
			t.Errorf("%q: %s", c.in, d)
		}
	}
}

func TestUUID(t *testing.T) {
	const dashed = "12345678-9abc-def0-1234-56789abcdef0"
	u, err := taggedjson.ParseUUID(dashed)
	if err != nil {
		t.Fatal(err)
	}
	if u.String() != dashed || u.Hex() != strings.ReplaceAll(dashed, "-", "") {
		t.Fatalf("String %s Hex %s", u, u.Hex())
	}
	if u2, err := taggedjson.ParseUUID(strings.ToUpper(u.Hex())); err != nil || u2 != u {
		t.Fatalf("ParseUUID(upper hex) = %v, %v", u2, err)
	}
	for _, bad := range []string{"", "zz", dashed[:35], dashed + "0", "12345678_9abc-def0-1234-56789abcdef0", strings.Repeat("g", 32)} {
		if _, err := taggedjson.ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", bad)
		}
	}
	roundTrip(t, u, `{" u":"123456789abcdef0123456789abcdef0"}`)
}

func TestStrings(t *testing.T) {
	roundTrip(t, "a\"b\\c\n\r\t\b\f\x00\x1f\x7f/é\u2028\U0001F600",
		`"a\"b\\c\n\r\t\b\f\u0000\u001f\u007f/\u00e9\u2028\ud83d\ude00"`)
	// Lone surrogates survive the round trip as WTF-8.
	v := mustUnmarshal(t, `["\ud800","\udc00x","\ud83d\u0041"]`)
	if got := mustMarshal(t, v); got != `["\ud800","\udc00x","\ud83dA"]` {
		t.Fatalf("lone surrogates: %s", got)
	}
	if s := v.([]any)[0].(string); s != "\xed\xa0\x80" {
		t.Fatalf("lone surrogate stored as %q", s)
	}
	// Other invalid UTF-8 cannot come from Python.
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0"} {
		if _, err := taggedjson.Marshal(s); !errors.Is(err, taggedjson.ErrUnsupportedValue) {
			t.Errorf("Marshal(%q) error = %v", s, err)
		}
		if _, err := taggedjson.Marshal(map[string]any{s: 1}); !errors.Is(err, taggedjson.ErrUnsupportedValue) {
			t.Errorf("Marshal(key %q) error = %v", s, err)
		}
	}
	for _, in := range []string{"\"\xff\"", "\"a\x01\"", `"\x"`, `"\u12"`, `"abc`, "\xef\xbb\xbf{}"} {
		if _, err := taggedjson.Unmarshal([]byte(in)); !errors.Is(err, taggedjson.ErrSyntax) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrSyntax", in, err)
		}
	}
}

func TestNumbers(t *testing.T) {
	big19, _ := new(big.Int).SetString("18446744073709551617", 10)
	roundTrip(t, []any{int64(math.MinInt64), int64(math.MaxInt64), big19, new(big.Int).Neg(big19)},
		`[-9223372036854775808,9223372036854775807,18446744073709551617,-18446744073709551617]`)
	roundTrip(t, []any{1.0, 0.1, 1e16, 1e15, 1e-5, 0.0001, math.Copysign(0, -1), 5e-324, math.NaN(), math.Inf(1), math.Inf(-1)},
		`[1.0,0.1,1e+16,1000000000000000.0,1e-05,0.0001,-0.0,5e-324,NaN,Infinity,-Infinity]`)
	v := mustUnmarshal(t, `[1E400,-1e400,1e-400,-0,2.50,100]`)
	if d := flaskvectors.Diff(v, []any{math.Inf(1), math.Inf(-1), 0.0, int64(0), 2.5, int64(100)}); d != "" {
		t.Fatal(d)
	}
	// Go integer and float kinds are written like the model's.
	if got := mustMarshal(t, []any{int8(-1), uint8(255), uint64(math.MaxUint64), float32(0.5), 3}); got != `[-1,255,18446744073709551615,0.5,3]` {
		t.Fatalf("Go kinds: %s", got)
	}
	if _, err := taggedjson.Unmarshal([]byte(strings.Repeat("1", 4301))); !errors.Is(err, taggedjson.ErrSyntax) {
		t.Fatalf("4301 digits: %v", err)
	}
	if _, err := taggedjson.Unmarshal([]byte(strings.Repeat("1", 4300))); err != nil {
		t.Fatalf("4300 digits: %v", err)
	}
}

func TestDepth(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	if _, err := taggedjson.Unmarshal([]byte(deep(taggedjson.DefaultMaxDepth))); err != nil {
		t.Fatalf("depth %d: %v", taggedjson.DefaultMaxDepth, err)
	}
	for _, in := range []string{
		deep(taggedjson.DefaultMaxDepth + 1),
		strings.Repeat(`{"a":`, taggedjson.DefaultMaxDepth+1),
		strings.Repeat("[", 10_000_000), // never a stack overflow
	} {
		_, err := taggedjson.Unmarshal([]byte(in))
		var e *taggedjson.Error
		if !errors.Is(err, taggedjson.ErrTooDeep) || !errors.As(err, &e) || e.Offset < taggedjson.DefaultMaxDepth {
			t.Fatalf("deep input: %v", err)
		}
		if len(err.Error()) > 200 {
			t.Fatalf("error message too long: %d bytes", len(err.Error()))
		}
	}
	// Marshal refuses to write what Unmarshal would refuse to read.
	var v any = "x"
	for i := 0; i < taggedjson.DefaultMaxDepth; i++ {
		v = []any{v}
	}
	if _, err := taggedjson.Marshal(v); err != nil {
		t.Fatalf("depth %d: %v", taggedjson.DefaultMaxDepth, err)
	}
	for _, tooDeep := range []any{
		[]any{v},
		taggedjson.Tuple(v.([]any)), // a tuple costs two levels
		[]any{map[string]any{" t": v.([]any)[0].([]any)[0]}}, // and so does an escaped dict
	} {
		if _, err := taggedjson.Marshal(tooDeep); !errors.Is(err, taggedjson.ErrTooDeep) {
			t.Fatalf("Marshal too deep: %v", err)
		}
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if _, err := taggedjson.Marshal(cyclic); !errors.Is(err, taggedjson.ErrTooDeep) {
		t.Fatalf("Marshal cyclic: %v", err)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for in, off := range map[string]int{
		`{"a":`:         5,
		`[1,]`:          3,
		`{"a":1,}`:      7,
		`[1 2]`:         3,
		`01`:            1,
		`nan`:           0,
		`-NaN`:          0,
		`{"a" 1}`:       5,
		`{'a':1}`:       1,
		`[1]x`:          3,
		``:              0,
		`"abc`:          0,
		`"a` + "\x01":   2,
		`[1.]`:          2,
		`{"a":1` + "}}": 7,
	} {
		_, err := taggedjson.Unmarshal([]byte(in))
		var e *taggedjson.Error
		if !errors.Is(err, taggedjson.ErrSyntax) || !errors.As(err, &e) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrSyntax", in, err)
			continue
		}
		if e.Offset != off {
			t.Errorf("Unmarshal(%q) offset = %d, want %d (%v)", in, e.Offset, off, err)
		}
	}
	// Messages never echo the (attacker-controlled) input.
	secret := strings.Repeat("s3cr3t", 1000)
	_, err := taggedjson.Unmarshal([]byte(`{"` + secret + `":` + secret + `}`))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error = %v", err)
	}
}

func TestUnmarshalObject(t *testing.T) {
	m, err := taggedjson.UnmarshalObject([]byte(`{"a":{" t":[1]}}`))
	if err != nil || !flaskvectors.Equal(m, map[string]any{"a": taggedjson.Tuple{int64(1)}}) {
		t.Fatalf("object: %v, %v", m, err)
	}
	// Flask builds the session with dict(data) (or an empty one for None),
	// so these load as an empty session rather than failing.
	for _, in := range []string{`null`, `[]`, `""`, `{" t":[]}`, `{" d":"not a date"}`, `{" b":""}`, `{" m":""}`} {
		m, err := taggedjson.UnmarshalObject([]byte(in))
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("UnmarshalObject(%s) = %v, %v; want an empty map", in, m, err)
		}
	}
	for _, in := range []string{`[1,2]`, `0`, `"x"`, `true`, `{" t":[1]}`, `{" u":"12345678123456781234567812345678"}`} {
		if _, err := taggedjson.UnmarshalObject([]byte(in)); !errors.Is(err, taggedjson.ErrNotObject) {
			t.Errorf("UnmarshalObject(%s) error = %v, want ErrNotObject", in, err)
		}
	}
	if _, err := taggedjson.UnmarshalObject([]byte(`{`)); !errors.Is(err, taggedjson.ErrSyntax) {
		t.Errorf("UnmarshalObject({) error = %v", err)
	}
}

func TestAppendMarshal(t *testing.T) {
	dst := []byte("prefix")
	out, err := taggedjson.AppendMarshal(dst, map[string]any{"a": []any{"ok", make(chan int)}})
	if !errors.Is(err, taggedjson.ErrUnsupportedType) || string(out) != "prefix" {
		t.Fatalf("AppendMarshal error: %q, %v", out, err)
	}
	if !strings.Contains(err.Error(), "chan int") {
		t.Fatalf("error does not name the type: %v", err)
	}
	// Nil containers of the model are empty containers.
	if got := mustMarshal(t, map[string]any{"m": map[string]any(nil), "l": []any(nil), "t": taggedjson.Tuple(nil), "b": []byte(nil)}); got != `{"b":{" b":""},"l":[],"m":{},"t":{" t":[]}}` {
		t.Fatalf("nil containers: %s", got)
	}
	if _, err := taggedjson.Marshal((*big.Int)(nil)); !errors.Is(err, taggedjson.ErrUnsupportedValue) {
		t.Fatalf("nil *big.Int: %v", err)
	}
}

func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	v := benchSession()
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf, _ = taggedjson.AppendMarshal(buf[:0], v) }); n != 0 {
		t.Errorf("AppendMarshal allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = taggedjson.Marshal(v) }); n != 1 {
		t.Errorf("Marshal allocates %v times, want 1 (the result)", n)
	}
	var x any = "model string"
	if n := testing.AllocsPerRun(100, func() { x, _ = taggedjson.Normalize(x) }); n != 0 {
		t.Errorf("Normalize of a scalar model value allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = taggedjson.Normalize(v) }); n != 0 {
		t.Errorf("Normalize of a model map allocates %v times", n)
	}
	// ConvertTo allocates only what the result itself needs.
	var big any = int64(1) << 40
	if n := testing.AllocsPerRun(100, func() { _, _ = taggedjson.ConvertTo[int](big) }); n != 0 {
		t.Errorf("ConvertTo[int] of an int64 allocates %v times", n)
	}
	var list any = []any{int64(1), int64(2), int64(3)}
	if n := testing.AllocsPerRun(100, func() { _, _ = taggedjson.ConvertTo[[]int](list) }); n != 1 {
		t.Errorf("ConvertTo[[]int] allocates %v times, want 1 (the slice)", n)
	}
}

// ConvertTo gives what Convert stores, and the same errors, for targets on
// its fast path and off it.
func TestConvertToMatchesConvert(t *testing.T) {
	values := []any{
		nil, true, int64(7), int64(1) << 40, 3600.0, 1.5, "s", taggedjson.Markup("<b>"),
		[]any{int64(1), int64(2)}, []any{"a", taggedjson.Markup("b")}, []any{int64(1), "x"},
		taggedjson.Tuple{int64(1)}, map[string]any{"k": int64(1)}, []byte("b"),
	}
	for _, v := range values {
		checkConvertTo[any](t, v)
		checkConvertTo[int](t, v)
		checkConvertTo[int8](t, v)
		checkConvertTo[int64](t, v)
		checkConvertTo[float64](t, v)
		checkConvertTo[bool](t, v)
		checkConvertTo[string](t, v)
		checkConvertTo[[]int](t, v)
		checkConvertTo[[]string](t, v)
		checkConvertTo[[]any](t, v)
		checkConvertTo[map[string]any](t, v)
		checkConvertTo[map[string]int](t, v)
		checkConvertTo[*int](t, v)
	}
}

func checkConvertTo[T any](t *testing.T, v any) {
	t.Helper()
	got, err := taggedjson.ConvertTo[T](v)
	var want T
	werr := taggedjson.Convert(v, &want)
	if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
		t.Fatalf("ConvertTo[%T](%#v): error %v, Convert's %v", want, v, err, werr)
	}
	if err != nil {
		if !errors.Is(err, taggedjson.ErrTypeMismatch) {
			t.Fatalf("ConvertTo[%T](%#v): %v is not ErrTypeMismatch", want, v, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ConvertTo[%T](%#v) = %#v, Convert stores %#v", want, v, got, want)
	}
}

// TestTupleOfStringAtDepthLimit pins the documented case where valid input
// cannot be written back: tuple("ab") is one level deeper than {" t":"ab"}.
func TestTupleOfStringAtDepthLimit(t *testing.T) {
	n := taggedjson.DefaultMaxDepth - 1
	in := strings.Repeat("[", n) + `{" t":"ab"}` + strings.Repeat("]", n)
	v := mustUnmarshal(t, in)
	if _, err := taggedjson.Marshal(v); !errors.Is(err, taggedjson.ErrTooDeep) {
		t.Fatalf("Marshal error = %v, want ErrTooDeep", err)
	}
}
