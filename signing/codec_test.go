package signing

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// The expected strings were produced by Python 3.11's json.dumps with
// sort_keys=True (Go sorts map keys): compact = separators=(",", ":"),
// ensure_ascii=False (itsdangerous's _CompactJSON); plain = the defaults
// (itsdangerous's Serializer).
var codecCases = []struct {
	v              any
	compact, plain string
}{
	{
		map[string]any{"b": "<script>&amp;</script>", "a": "Zoë ☃ 😀", "c": "\u2028\u2029", "d": "\x7f\x00\x1f\b\f\n\r\t\"\\/"},
		"{\"a\":\"Zoë ☃ 😀\",\"b\":\"<script>&amp;</script>\",\"c\":\"\u2028\u2029\",\"d\":\"\x7f\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\"}",
		`{"a": "Zo\u00eb \u2603 \ud83d\ude00", "b": "<script>&amp;</script>", "c": "\u2028\u2029", "d": "\u007f\u0000\u001f\b\f\n\r\t\"\\/"}`,
	},
	{
		[]any{`lit \u2028 text`, `\\u2029`, map[string]any{"k": []any{1, -2, true, false, nil, 1.5, 0.1}}},
		`["lit \\u2028 text","\\\\u2029",{"k":[1,-2,true,false,null,1.5,0.1]}]`,
		`["lit \\u2028 text", "\\\\u2029", {"k": [1, -2, true, false, null, 1.5, 0.1]}]`,
	},
	{
		map[string]any{"": map[string]any{}, "z": []any{}, "é": "\ufeff\U0010ffff"},
		"{\"\":{},\"z\":[],\"é\":\"\ufeff\U0010ffff\"}",
		`{"": {}, "z": [], "\u00e9": "\ufeff\udbff\udfff"}`,
	},
	{"a:b,c", `"a:b,c"`, `"a:b,c"`}, // separators inside strings stay as they are
	{nil, `null`, `null`},
	{struct {
		Z int    `json:"z"`
		A string `json:"a"`
	}{1, "x"}, `{"z":1,"a":"x"}`, `{"z": 1, "a": "x"}`}, // struct field order is kept
}

func TestJSONMatchesPython(t *testing.T) {
	for _, c := range codecCases {
		got, err := JSON.Marshal(c.v)
		if err != nil || string(got) != c.compact {
			t.Errorf("JSON.Marshal(%#v) = %s, %v\nwant %s", c.v, got, err, c.compact)
		}
		got, err = PlainJSON.Marshal(c.v)
		if err != nil || string(got) != c.plain {
			t.Errorf("PlainJSON.Marshal(%#v) = %s, %v\nwant %s", c.v, got, err, c.plain)
		}
		// Both forms read back to the same value.
		var a, b any
		if err := JSON.Unmarshal([]byte(c.compact), &a); err != nil {
			t.Error(err)
		}
		if err := PlainJSON.Unmarshal([]byte(c.plain), &b); err != nil {
			t.Error(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("compact and plain forms decode differently: %#v vs %#v", a, b)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	if _, err := JSON.Marshal(math.NaN()); err == nil {
		t.Error("NaN marshaled")
	}
	if _, err := JSON.Marshal(make(chan int)); err == nil {
		t.Error("chan marshaled")
	}
	var v any
	if err := JSON.Unmarshal([]byte("\"\xff\""), &v); err == nil {
		t.Error("invalid UTF-8 accepted (Python's strict decode rejects it)")
	}
	if err := JSON.Unmarshal([]byte("{"), &v); err == nil {
		t.Error("bad JSON accepted")
	}
	// A valid document with a NUL byte inside a string escape is fine.
	if err := JSON.Unmarshal([]byte(`"\u0000"`), &v); err != nil || v != "\x00" {
		t.Errorf("%q, %v", v, err)
	}
}

func TestJSONReturnsFreshSlices(t *testing.T) {
	a, _ := JSON.Marshal("first")
	b, _ := JSON.Marshal("second")
	if string(a) != `"first"` || string(b) != `"second"` {
		t.Errorf("pooled buffer reused: %s %s", a, b)
	}
	c, _ := JSON.Marshal(json.RawMessage(` { "a" : 1 } `))
	if string(c) != `{"a":1}` {
		t.Errorf("RawMessage not compacted: %s", c)
	}
}
