package flash

import (
	"testing"

	"github.com/seshat-go/seshat/taggedjson"
)

// FuzzFlashDecode: whatever a cookie's "_flashes" holds, reading it never
// panics, and every message read is a pair that was there.
func FuzzFlashDecode(f *testing.F) {
	f.Add(`[{" t":["message","Welcome back"]},{" t":["info",{" m":"<b>bold</b>"}]}]`)
	f.Add(`[["a","b"],{" t":[1,null]},{" t":["x"]},"s",{}]`)
	f.Add(`{"_flashes":1}`)
	f.Add(`[{" t":[{" t":[]},[1.5e300,true]]}]`)
	f.Fuzz(func(t *testing.T, data string) {
		v, err := taggedjson.Unmarshal([]byte(data))
		if err != nil {
			return
		}
		msgs := decode(v)
		list, _ := v.([]any)
		if len(msgs) > len(list) {
			t.Fatalf("%d messages from %d entries", len(msgs), len(list))
		}
		_ = filter(msgs, []string{"error"})
	})
}
