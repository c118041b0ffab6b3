package redisstore

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecode: the record decoder (a session hash as HGETALL returns it)
// never panics and refuses with ErrCorrupt. The input is the hash written
// as field\nvalue\nfield\nvalue...; runs without Redis.
func FuzzDecode(f *testing.F) {
	f.Add("m:exp\n1710000000000\nm:uid\nbob\nv:user\n\"alice\"")
	f.Add("m:exp\n-9223372036854775808\nv:\n")
	f.Add("m:exp\n99999999999999999999")
	f.Add("v:a\n1")
	f.Add("m:exp\n1\nm:new\nx\nother\ny")
	f.Fuzz(func(t *testing.T, hash string) {
		parts := strings.Split(hash, "\n")
		m := make(map[string]string, len(parts)/2)
		for i := 0; i+1 < len(parts); i += 2 {
			m[parts[i]] = parts[i+1]
		}
		rec, err := decode("k", m)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refusal not ErrCorrupt: %v", err)
			}
			return
		}
		if rec.UserID != m[fieldUID] {
			t.Fatalf("owner %q, stored %q", rec.UserID, m[fieldUID])
		}
		for k, v := range rec.Values {
			if m[valuePrefix+k] != string(v) {
				t.Fatalf("value of %q changed", k)
			}
		}
	})
}
