package seshat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// idLen is the length of a session id: 32 random bytes (256 bits) in
// unpadded base64url.
const idLen = 43

// permanentFlag marks, inside the signed cookie, a session id whose session
// is permanent, so an untouched request can slide its expiry without reading
// the store first.
const permanentFlag = ".p"

// newID returns a fresh 256-bit session id from crypto/rand.
func newID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails since Go 1.24 (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validID reports whether id has the exact syntax seshat issues, so that no
// other value ever reaches a store.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// StoreKey returns the key a Store receives for session id: the hex SHA-256
// of the id. Stores keep only this, never the id.
func StoreKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// parseIDToken splits a verified cookie payload into the id and the
// permanent flag.
func parseIDToken(tok string) (id string, permanent bool, ok bool) {
	id, permanent = strings.CutSuffix(tok, permanentFlag)
	return id, permanent, validID(id)
}
