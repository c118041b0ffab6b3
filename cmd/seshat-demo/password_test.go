package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := hashPassword("s3cret pass", cheapArgon)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if h2 := hashPassword("s3cret pass", cheapArgon); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"s3cret pass": true, "s3cret pas": false, "": false, "S3cret pass": false} {
		ok, err := checkPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("checkPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	// The default parameters are the ones written into the string.
	if d := hashPassword("x", defaultArgon); !strings.Contains(d, "$m=19456,t=2,p=1$") {
		t.Errorf("default hash %q", d)
	}
	if ok, _ := checkPassword(strings.Repeat("x", maxPasswordLen+1), h); ok {
		t.Error("an over-long password matched")
	}
}

func TestPasswordBadHash(t *testing.T) {
	good := hashPassword("pw", cheapArgon)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"", "plain", "$2b$10$abcdefghijklmnopqrstuv", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=99999999", 1), // would allocate ~100 GB
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$short",
		good + "$extra",
	} {
		if ok, err := checkPassword("pw", bad); ok || err == nil {
			t.Errorf("checkPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

// FuzzParsePHC: no stored hash makes the parser panic, and what it accepts
// is within the cost bounds and prints back to the same string.
func FuzzParsePHC(f *testing.F) {
	f.Add(hashPassword("pw", cheapArgon))
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=+8,t=01,p=1 $AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, hash, err := parsePHC(phc)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > 10 || p.Threads > 16 || len(salt) < 8 || len(hash) < 16 {
			t.Fatalf("accepted out-of-bounds %q: %+v", phc, p)
		}
		b64 := base64.RawStdEncoding
		again := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
			b64.EncodeToString(salt), b64.EncodeToString(hash))
		if again != phc {
			t.Fatalf("accepted %q, which reads as %q", phc, again)
		}
	})
}
