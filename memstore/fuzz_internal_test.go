package memstore

import (
	"bytes"
	"testing"
)

// FuzzDecode: the record decoder never panics or over-reads on arbitrary
// bytes, and what it accepts encodes back to the same values.
func FuzzDecode(f *testing.F) {
	f.Add(encode(map[string][]byte{"user": []byte(`"alice"`), "t": []byte(`{" t":["x",1]}`)}))
	f.Add(encode(map[string][]byte{"": nil}))
	f.Add([]byte{0x80})                                                       // truncated varint
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) // 2^64-1 length
	f.Add([]byte{0x01, 'a', 0x05, 'b'})                                       // value shorter than its length
	f.Fuzz(func(t *testing.T, b []byte) {
		values, err := decode(b)
		if err != nil {
			if err != errCorrupt {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		back, err := decode(encode(values))
		if err != nil || len(back) != len(values) {
			t.Fatalf("re-encoded record: %v, %d of %d values", err, len(back), len(values))
		}
		for k, v := range values {
			if !bytes.Equal(back[k], v) {
				t.Fatalf("value of %q changed: %q -> %q", k, v, back[k])
			}
		}
	})
}
