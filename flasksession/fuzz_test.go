package flasksession

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/seshat-go/seshat/internal/flaskvectors"
)

// vectorPickles returns every pickle in the Flask-Session vectors: the
// standalone samples, the Redis values (written and re-written) and the
// filesystem file's pickle.
func vectorPickles(t testing.TB) [][]byte {
	var out [][]byte
	add := func(h string) {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, v := range loadVectors(t).Vectors {
		var h string
		if v.Has("pickle_hex") {
			v.Field("pickle_hex", &h)
			add(h)
		}
		if v.Has("file_hex") {
			v.Field("file_hex", &h)
			add(h[8:])
		}
		if v.Has("redis_calls") {
			var calls [][]any
			v.Field("redis_calls", &calls)
			for _, c := range calls {
				if c[0] == "SETEX" {
					add(c[3].(string))
				}
			}
		}
	}
	return out
}

// FuzzDecodePickle checks that the decoder never panics, and that whatever
// it accepts the encoder writes back (at protocols 4 and 5) to a pickle that
// decodes to the same value and is a fixed point of decode-then-encode.
func FuzzDecodePickle(f *testing.F) {
	for _, b := range vectorPickles(f) {
		f.Add(b)
	}
	f.Add(p4("]\x94(\x8c\x02ab\x94h\x01j\x01\x00\x00\x00e"))
	f.Add(p4("}\x94(\x8c\x01a]\x94\x8c\x01bh\x01uh\x01K\x01a\x86"))
	f.Add(p4("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00"))
	lim := Limits{MaxSize: 1 << 16, MaxItems: 1 << 14, MaxExpanded: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decoder{Limits: lim}.Decode(data)
		ordered, err2 := Decoder{Limits: lim, KeepOrder: true}.Decode(data)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("KeepOrder changes acceptance: %v vs %v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "flasksession: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		if d := flaskvectors.Diff(Unordered(ordered), v); d != "" {
			t.Fatalf("KeepOrder changes the value: %s", d)
		}
		for _, proto := range []int{4, 5} {
			enc, err := EncodePickle(ordered, proto)
			if err != nil {
				t.Fatalf("accepted value cannot be encoded: %v", err)
			}
			back, err := Decoder{KeepOrder: true}.Decode(enc)
			if err != nil {
				t.Fatalf("our own pickle does not decode: %v\n%x", err, enc)
			}
			if d := flaskvectors.Diff(Unordered(back), v); d != "" {
				t.Fatalf("decode(encode(x)) != x: %s", d)
			}
			again, err := EncodePickle(back, proto)
			if err != nil || !bytes.Equal(again, enc) {
				t.Fatalf("encoding is not a fixed point: %v\n%x\n%x", err, enc, again)
			}
		}
	})
}
