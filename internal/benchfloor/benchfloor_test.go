package benchfloor

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	v, err := Encode(Session(), 1710000000)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(v)
	if err != nil {
		t.Fatal(err)
	}
	if m["theme"] != "dark" || m["_user_id"] != "42" || m["_fresh"] != true || len(m["cart"].([]any)) != 3 {
		t.Fatalf("decoded %v", m)
	}
	tampered := []byte(v)
	tampered[0] ^= 1
	if _, err := Decode(string(tampered)); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered value: %v, want ErrSignature", err)
	}
}

// FuzzDecode: any input gives a session or an error, never a panic.
func FuzzDecode(f *testing.F) {
	v, _ := Encode(Session(), 1710000000)
	f.Add(v)
	f.Add("")
	f.Add("..")
	f.Fuzz(func(t *testing.T, v string) {
		m, err := Decode(v)
		if err == nil && m == nil {
			t.Fatal("nil session without an error")
		}
	})
}
