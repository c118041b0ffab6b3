package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost parameters. The defaults are OWASP's
// second recommendation (19 MiB, 2 passes, 1 lane): strong enough for a
// password store and cheap enough for a small machine.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

var defaultArgon = argonParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// errBadHash is returned for a stored hash that is not a PHC argon2id string
// this program can check.
var errBadHash = errors.New("password hash is not an argon2id PHC string")

const (
	saltLen = 16
	keyLen  = 32
	// maxPasswordLen bounds the input of the (deliberately slow) hash, so a
	// megabyte "password" costs no more than a normal one.
	maxPasswordLen = 1024
	// maxMemory (KiB) is the most a stored hash may ask for: 256 MiB.
	maxMemory = 256 * 1024
)

// hashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, base64 without padding, the
// format argon2-cffi and passlib read too.
func hashPassword(password string, p argonParams) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches the PHC string phc. The
// parameters come from phc, so hashes made with older settings keep working.
func checkPassword(password, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	if len(password) > maxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePHC reads an argon2id PHC string. It refuses parameters no sane hash
// has, so a corrupt row cannot make one login allocate gigabytes.
func parsePHC(phc string) (p argonParams, salt, hash []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, nil, nil, errBadHash
	}
	var rest string
	if n, _ := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d%s", &p.Memory, &p.Time, &p.Threads, &rest); n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return p, nil, nil, errBadHash
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > 10 || p.Threads < 1 || p.Threads > 16 {
		return p, nil, nil, errBadHash
	}
	if salt, err = decodePHCField(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errBadHash
	}
	if hash, err = decodePHCField(parts[5]); err != nil || len(hash) < 16 || len(hash) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, hash, nil
}

// decodePHCField decodes one unpadded base64 field of a PHC string and
// accepts it only in canonical form: encoding/base64 skips '\r' and '\n'
// anywhere in its input even in Strict mode, so without the round-trip
// check a stored hash with a line break inside would still verify
// (FuzzParsePHC found it).
func decodePHCField(field string) ([]byte, error) {
	b64 := base64.RawStdEncoding.Strict()
	b, err := b64.DecodeString(field)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != field {
		return nil, errBadHash
	}
	return b, nil
}
