package flasksession

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/seshat-go/seshat"
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

// FuzzRecordCodec drives the store-side codec (what the Redis and file
// stores call on every Load, Merge and Iterate) with arbitrary bytes: it
// never panics; a record that decodes encodes back to the same values and
// owner, and Merge keeps every key it did not touch.
func FuzzRecordCodec(f *testing.F) {
	for _, b := range vectorPickles(f) {
		f.Add(b)
	}
	f.Add(p4("}\x94(\x8c\x01a]\x94\x8c\x01bh\x01uh\x01K\x01a\x86"))
	c := &Codec{Limits: Limits{MaxSize: 1 << 16, MaxItems: 1 << 14, MaxExpanded: 1 << 18}}
	f.Fuzz(func(t *testing.T, data []byte) {
		values, user, err := c.Decode(data)
		owner, oerr := c.Owner(data)
		// Owner reads only the dict, so it may accept a record whose values
		// Decode cannot express; the reverse is a bug.
		if err == nil && oerr != nil {
			t.Fatalf("Decode accepts what Owner refuses: %v", oerr)
		}
		if err != nil {
			return
		}
		if owner != user {
			t.Fatalf("Owner %q, Decode %q", owner, user)
		}
		enc, err := c.Encode(values, user)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		back, buser, err := c.Decode(enc)
		if err != nil || buser != user || len(back) != len(values) {
			t.Fatalf("round trip: %v, owner %q/%q, %d of %d values", err, buser, user, len(back), len(values))
		}
		for k, v := range values {
			if !bytes.Equal(back[k], v) {
				t.Fatalf("value of %q changed: %s -> %s", k, v, back[k])
			}
		}
		merged, err := c.Merge(data, &seshat.Change{Set: map[string][]byte{"fuzz": []byte("1")}})
		if err != nil {
			t.Fatalf("decoded record does not merge: %v", err)
		}
		mv, muser, err := c.Decode(merged)
		if err != nil || muser != user || string(mv["fuzz"]) != "1" {
			t.Fatalf("merged record: %v, owner %q/%q, fuzz=%s", err, muser, user, mv["fuzz"])
		}
		for k := range values {
			if _, ok := mv[k]; !ok {
				t.Fatalf("merge lost %q", k)
			}
		}
	})
}

// FuzzIDScheme: whatever the Flask-Session id cookie decoder accepts, signed
// or not, is a canonical uuid (so it is safe as a Redis key or file name)
// and the exact id a cookie for it would carry.
func FuzzIDScheme(f *testing.F) {
	signed, err := NewIDScheme(IDOptions{Keys: [][]byte{[]byte("dev-secret-key-1")}})
	if err != nil {
		f.Fatal(err)
	}
	unsigned, _ := NewIDScheme(IDOptions{Unsigned: true})
	id := "0b6c1b0e-8c4f-4d5c-9a39-2f5e3c3b1a2d"
	f.Add(id)
	f.Add(signed.Encode(id, false))
	f.Add("../../../etc/passwd-aaaa-aaaa-aaaaaaaaaaaa")
	f.Add("0B6C1B0E-8C4F-4D5C-9A39-2F5E3C3B1A2D")
	for _, v := range loadVectors(f).Vectors {
		var val string
		if v.Field("cookie_value", &val) == nil {
			f.Add(val)
		}
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, s := range []*IDScheme{signed, unsigned} {
			got, perm, err := s.Decode(value)
			if err != nil {
				continue
			}
			if perm || !ValidID(got) || s.Key(got) != got {
				t.Fatalf("accepted %q as %q (permanent %v)", value, got, perm)
			}
			if back, _, err := s.Decode(s.Encode(got, false)); err != nil || back != got {
				t.Fatalf("re-encoded id %q: %q, %v", got, back, err)
			}
		}
	})
}
