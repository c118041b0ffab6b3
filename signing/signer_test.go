package signing

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

var (
	testKey = []byte("s3cr3t-key")
	oldKey  = []byte("old-key-2023")
)

func mustSigner(t testing.TB, keys [][]byte, o Options) *Signer {
	t.Helper()
	s, err := NewSigner(keys, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSignerErrors(t *testing.T) {
	cases := []struct {
		name string
		keys [][]byte
		o    Options
	}{
		{"no keys", nil, Options{}},
		{"empty key list", [][]byte{}, Options{}},
		{"empty key", [][]byte{testKey, {}}, Options{}},
		{"unknown digest", [][]byte{testKey}, Options{Digest: 7}},
		{"negative digest", [][]byte{testKey}, Options{Digest: -1}},
		{"unknown derivation", [][]byte{testKey}, Options{KeyDerivation: 9}},
	}
	for _, c := range "abzAZ09-_=" {
		cases = append(cases, struct {
			name string
			keys [][]byte
			o    Options
		}{"sep " + string(c), [][]byte{testKey}, Options{Sep: byte(c)}})
	}
	for _, c := range cases {
		if _, err := NewSigner(c.keys, c.o); err == nil {
			t.Errorf("%s: NewSigner accepted", c.name)
		} else if errors.Is(err, ErrBadData) || !strings.HasPrefix(err.Error(), "signing: ") {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	// Separators outside the base64url alphabet are fine, including the
	// standard alphabet's "+/" (itsdangerous allows them too).
	for _, sep := range []byte{'~', '!', '+', '/', ':', '|', 0x01, 0xff} {
		s := mustSigner(t, [][]byte{testKey}, Options{Sep: sep})
		tok := s.Sign([]byte("a.b"))
		if v, err := s.Unsign(tok); err != nil || string(v) != "a.b" {
			t.Errorf("sep %q: %q, %v", sep, v, err)
		}
	}
}

func TestSignerDefaults(t *testing.T) {
	def := mustSigner(t, [][]byte{testKey}, Options{})
	explicit := mustSigner(t, [][]byte{testKey}, Options{Salt: []byte(DefaultSignerSalt), Sep: '.', KeyDerivation: DjangoConcat, Digest: SHA1})
	empty := mustSigner(t, [][]byte{testKey}, Options{Salt: []byte{}})
	v := []byte("hello")
	if !bytes.Equal(def.Sign(v), explicit.Sign(v)) {
		t.Error("zero Options differ from itsdangerous's defaults")
	}
	if bytes.Equal(def.Sign(v), empty.Sign(v)) {
		t.Error("an empty salt signs like the default salt")
	}
	if got := string(def.Sign(v)); got != "hello.y3FgNxYLRsJpenwc4yNwRKSb3Xg" {
		t.Errorf("Sign = %q", got)
	}
}

func TestSignerRotation(t *testing.T) {
	oldOnly := mustSigner(t, [][]byte{oldKey}, Options{})
	rotated := mustSigner(t, [][]byte{oldKey, testKey}, Options{})
	newOnly := mustSigner(t, [][]byte{testKey}, Options{})
	v := []byte("hello")
	if !bytes.Equal(rotated.Sign(v), newOnly.Sign(v)) {
		t.Error("rotated signer does not sign with the newest (last) key")
	}
	oldTok := oldOnly.Sign(v)
	if _, err := rotated.Unsign(oldTok); err != nil {
		t.Errorf("old token rejected during rotation: %v", err)
	}
	if _, err := newOnly.Unsign(oldTok); !errors.Is(err, ErrBadSignature) {
		t.Errorf("old token after rotation: %v", err)
	}
	// Three keys: every one verifies.
	k3 := []byte("third")
	three := mustSigner(t, [][]byte{oldKey, k3, testKey}, Options{})
	for _, k := range [][]byte{oldKey, k3, testKey} {
		tok := mustSigner(t, [][]byte{k}, Options{}).Sign(v)
		if _, err := three.Unsign(tok); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
}

// TestUnsignReusable: only a token the current signer would write byte for
// byte (newest key, canonical base64) is reported reusable.
func TestUnsignReusable(t *testing.T) {
	s := mustSigner(t, [][]byte{oldKey, testKey}, Options{})
	fresh := string(s.Sign([]byte("hello")))
	good := "hello.y3FgNxYLRsJpenwc4yNwRKSb3Xg"
	if fresh != good {
		t.Fatalf("Sign = %q, want %q", fresh, good)
	}
	for _, c := range []struct {
		tok      string
		reusable bool
	}{
		{good, true},
		{good + "=", false}, // padding
		{"hello.y3FgNxYLRsJpenwc4yNwRKSb3Xj", false},                                      // other unused bits
		{string(mustSigner(t, [][]byte{oldKey}, Options{}).Sign([]byte("hello"))), false}, // old key
	} {
		v, reusable, err := s.UnsignReusable([]byte(c.tok))
		if err != nil || string(v) != "hello" || reusable != c.reusable {
			t.Errorf("UnsignReusable(%q) = %q, %v, %v; want hello, %v, nil", c.tok, v, reusable, err, c.reusable)
		}
	}
	if _, _, err := s.UnsignReusable([]byte("hello.y3FgNxYLRsJpenwc4yNwRKSb3Xk")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("bad signature: %v, want ErrBadSignature", err)
	}
	if _, _, err := s.UnsignReusable([]byte("hello")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("no separator: %v, want ErrBadSignature", err)
	}
}

func TestSignerKeysAreCopied(t *testing.T) {
	k := []byte("mutable-key")
	s := mustSigner(t, [][]byte{k}, Options{KeyDerivation: NoDerivation})
	tok := s.Sign([]byte("v"))
	k[0] = 'X'
	if _, err := s.Unsign(tok); err != nil {
		t.Error("signer depends on the caller's key slice")
	}
}

func TestSignerDigests(t *testing.T) {
	for _, d := range []Digest{SHA1, SHA256, SHA512} {
		for _, kd := range []KeyDerivation{DjangoConcat, Concat, HMAC, NoDerivation} {
			s := mustSigner(t, [][]byte{testKey}, Options{Digest: d, KeyDerivation: kd})
			tok := s.Sign([]byte("value"))
			sig := tok[bytes.LastIndexByte(tok, '.')+1:]
			if len(sig) != s.sigLen() {
				t.Errorf("%v/%v: signature length %d, want %d", d, kd, len(sig), s.sigLen())
			}
			if v, err := s.Unsign(tok); err != nil || string(v) != "value" {
				t.Errorf("%v/%v: %q, %v", d, kd, v, err)
			}
		}
	}
}

// TestSignerLenientSignature pins the spellings of a valid signature that
// itsdangerous also accepts, and a few that it rejects.
func TestSignerLenientSignature(t *testing.T) {
	s := mustSigner(t, [][]byte{testKey}, Options{})
	good := "hello.y3FgNxYLRsJpenwc4yNwRKSb3Xg" // 'g' = 100000: 2 unused low bits
	accept := []string{
		good + "=",     // padding
		good + "=AAAA", // anything after the completing padding is ignored
		good + "!!",    // skipped bytes; the added '=' still completes the quantum
		good + "!!!",
		"hello.y3FgNxYLRsJpenwc4yNwRKSb3Xj", // unused low bits differ ('j' = 100011)
	}
	for _, tok := range accept {
		if v, err := s.Unsign([]byte(tok)); err != nil || string(v) != "hello" {
			t.Errorf("Unsign(%q) = %q, %v; itsdangerous accepts it", tok, v, err)
		}
	}
	// The standard alphabet's "+/" stand for "-_".
	rot := mustSigner(t, [][]byte{oldKey}, Options{})
	if _, err := rot.Unsign([]byte("hello.E/Okt4yDAT+piyGQImb7Tnkwcho")); err != nil {
		t.Errorf("standard-alphabet spelling rejected: %v", err)
	}
	reject := []string{
		"hello.y3FgNxYLRsJpenwc4yNwRKSb3Xk", // 'k' = 100100: a used bit differs
		good + "!",                          // 28 bytes: no '=' added, quantum incomplete
		good + "\n",
		good + "A",                          // 28 data characters: one byte too many
		"hello.y3FgNxYLRsJpenwc4yNwRKSb3X",  // one byte short
		"hello." + strings.Repeat("A", 200), // long
	}
	for _, tok := range reject {
		if _, err := s.Unsign([]byte(tok)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Unsign(%q) err = %v, want ErrBadSignature", tok, err)
		}
	}
}

func TestSignerMessages(t *testing.T) {
	s := mustSigner(t, [][]byte{[]byte("k")}, Options{})
	// Messages recorded from itsdangerous 2.2.0.
	cases := map[string]string{
		"v.it's":                           `Signature b"it's" does not match`,
		`v.a"b`:                            `Signature b'a"b' does not match`,
		`v.'"`:                             `Signature b'\'"' does not match`,
		"v.\x00\x7f\x80\xff\t\n\r\\":       `Signature b'\x00\x7f\x80\xff\t\n\r\\' does not match`,
		"v.":                               `Signature b'' does not match`,
		"abc":                              `No b'.' found in value`,
		"value.with.dots.AAAAAAAAAAAAAAAA": `Signature b'AAAAAAAAAAAAAAAA' does not match`,
	}
	for tok, want := range cases {
		_, err := s.Unsign([]byte(tok))
		var e *Error
		if !errors.As(err, &e) || e.Message != want {
			t.Errorf("Unsign(%q): %v, Message %q; want %q", tok, err, e.Message, want)
		}
	}
	seps := map[byte]string{'~': `No b'~' found in value`, 0: `No b'.' found in value`, '\'': `No b"'" found in value`, '\\': `No b'\\' found in value`, 0x01: `No b'\x01' found in value`}
	for sep, want := range seps {
		_, err := mustSigner(t, [][]byte{[]byte("k")}, Options{Sep: sep}).Unsign([]byte("abc"))
		var e *Error
		if !errors.As(err, &e) || e.Message != want || e.Payload != nil {
			t.Errorf("sep %q: %+v; want %q", sep, e, want)
		}
	}
}

func TestUnsignAliasesInput(t *testing.T) {
	s := mustSigner(t, [][]byte{testKey}, Options{})
	tok := s.Sign([]byte("hello"))
	v, err := s.Unsign(tok)
	if err != nil || &v[0] != &tok[0] {
		t.Errorf("Unsign copied the value (err %v)", err)
	}
	// An error's Payload is a copy.
	tok[len(tok)-1] ^= 1
	_, err = s.Unsign(tok)
	var e *Error
	if !errors.As(err, &e) || &e.Payload[0] == &tok[0] || string(e.Payload) != "hello" {
		t.Errorf("error payload %q aliases the token or is wrong", e.Payload)
	}
}

func TestAppendSignInPlace(t *testing.T) {
	s := mustSigner(t, [][]byte{testKey}, Options{})
	want := s.Sign([]byte("hello"))
	for _, capacity := range []int{5, 64} {
		buf := make([]byte, 3, capacity+3)
		copy(buf, "pre")
		buf = append(buf, "hello"...)
		got := s.AppendSign(buf[:3], buf[3:])
		if string(got) != "pre"+string(want) {
			t.Errorf("cap %d: AppendSign in place = %q", capacity, got)
		}
	}
}

func TestSignerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	s := mustSigner(t, [][]byte{oldKey, testKey}, Options{})
	value := []byte(`eyJ1c2VyX2lkIjo0Mn0`)
	buf := make([]byte, 0, 256)
	tok := s.Sign(value)
	oldTok := mustSigner(t, [][]byte{oldKey}, Options{}).Sign(value)
	s.AppendSign(buf, value) // warm the pool
	if n := testing.AllocsPerRun(200, func() { buf = s.AppendSign(buf[:0], value) }); n != 0 {
		t.Errorf("AppendSign: %v allocs", n)
	}
	if n := testing.AllocsPerRun(200, func() { _, _ = s.Unsign(tok) }); n != 0 {
		t.Errorf("Unsign: %v allocs", n)
	}
	if n := testing.AllocsPerRun(200, func() { _, _ = s.Unsign(oldTok) }); n != 0 {
		t.Errorf("Unsign with the old key: %v allocs", n)
	}
	if n := testing.AllocsPerRun(200, func() { s.Validate(tok) }); n != 0 {
		t.Errorf("Validate: %v allocs", n)
	}
}

func TestSignerConcurrent(t *testing.T) {
	s := mustSigner(t, [][]byte{oldKey, testKey}, Options{Digest: SHA256})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				v := []byte(strings.Repeat("x", g+i%7))
				tok := s.Sign(v)
				if got, err := s.Unsign(tok); err != nil || !bytes.Equal(got, v) {
					t.Errorf("round trip: %q, %v", got, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
