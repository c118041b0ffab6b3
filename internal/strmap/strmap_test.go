package strmap

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeValues checks the hand-written decoder against encoding/json on
// every input encoding/json reads as an object of strings, and that
// encodeValues output always decodes back to its input.
func FuzzDecodeValues(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : "1" , "b":"x\"y" } `, `{"a": "\u00e9\ud83d\ude00\ud800x\udc00"}`, `{"a":"\n\t\\\/\b\f\r"}`,
		`{"a":1}`, `{"a":null}`, `[]`, `{"a":"1",}`, `{"a":"1"} x`, `{"a":"1","a":"2"}`, `{"\u0000":"\u0000"}`,
		`{"a":"\ud83d\u0041"}`, `{"a":"\udc00\ud800"}`, `{"a":"é"}`, `{"a":"\x"}`, `{"a":"`, "{\"a\":\"\x01\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]*string
		wantErr := json.Unmarshal(data, &want) != nil || want == nil || !utf8.Valid(data)
		for _, v := range want {
			wantErr = wantErr || v == nil // null is not a value this package writes
		}
		in := append([]byte(nil), data...)
		got, err := Decode(in)
		if wantErr {
			if err == nil && utf8.Valid(data) {
				// encoding/json refused it; we may only accept what it
				// accepts (a null map aside).
				var v any
				if json.Unmarshal(data, &v) != nil {
					t.Fatalf("accepted invalid JSON %q", data)
				}
			}
			return
		}
		if err != nil {
			t.Fatalf("refused %q: %v", data, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: got %q, want %d values", data, got, len(want))
		}
		for k, v := range want {
			if string(got[k]) != *v {
				t.Fatalf("%q: key %q = %q, want %q", data, k, got[k], *v)
			}
		}
		// Round trip through the encoder (values without NUL only).
		enc := make(map[string][]byte, len(got))
		for k, v := range got {
			enc[k] = v
		}
		b, err := Encode(enc)
		if err != nil {
			return // NUL or invalid UTF-8 produced by an escape
		}
		back, err := Decode(b)
		if err != nil || !maps.EqualFunc(back, enc, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Fatalf("encode/decode of %q: %q, %v", enc, back, err)
		}
		// Capped values: appending to one must not change another.
		for k := range back {
			_ = append(back[k], 'X')
		}
		if !maps.EqualFunc(back, enc, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Fatalf("values share spare capacity")
		}
	})
}

func TestEncodeKeys(t *testing.T) {
	got, err := EncodeKeys([]string{"a", "é\"\\", "\u2028"})
	if err != nil || got != `["a","é\"\\","\u2028"]` && got != "[\"a\",\"é\\\"\\\\\",\"\u2028\"]" {
		t.Fatalf("%s %v", got, err)
	}
	var back []string
	if json.Unmarshal([]byte(got), &back) != nil || len(back) != 3 || back[1] != "é\"\\" {
		t.Fatalf("does not read back: %s", got)
	}
	if _, err := EncodeKeys([]string{"a\x00"}); err == nil {
		t.Fatal("NUL accepted")
	}
	if _, err := EncodeKeys([]string{"\xff"}); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}
