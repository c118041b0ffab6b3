package twofactor

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Recovery codes are 80 random bits written as 16 characters of
// Crockford's base32 (no i, l, o or u, so nothing looks alike), shown as
// xxxx-xxxx-xxxx-xxxx. At 80 bits a plain hash is enough: nobody can
// search that space from a leaked table, so a slow password hash would
// only cost CPU at every login. The hash takes the user id too, so a hash
// copied to another user's row is worthless.
var crockford = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

const recoveryBytes = 10 // 80 bits, 16 characters

// newRecoveryCodes returns n fresh codes for display and their hashes for
// the store.
func newRecoveryCodes(userID string, n int) (codes, hashes []string) {
	codes = make([]string, n)
	hashes = make([]string, n)
	for i := range codes {
		b := make([]byte, recoveryBytes)
		rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
		c := crockford.EncodeToString(b)
		codes[i] = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
		hashes[i] = hashRecovery(userID, c)
	}
	return codes, hashes
}

// hashRecovery is hex(SHA-256(domain, userID, normalized code)).
func hashRecovery(userID, normalized string) string {
	h := sha256.New()
	h.Write([]byte("seshat.twofactor.recovery\x00"))
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(normalized))
	return hex.EncodeToString(h.Sum(nil))
}

// findRecovery returns the index of the hash of the normalized code c in
// hashes, or -1. Every stored hash is compared, in constant time.
func findRecovery(hashes []string, userID, c string) int {
	if len(c) != 16 || strings.Trim(c, "0123456789abcdefghjkmnpqrstvwxyz") != "" {
		return -1
	}
	want := []byte(hashRecovery(userID, c))
	found := -1
	for i, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), want) == 1 {
			found = i
		}
	}
	return found
}
