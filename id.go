package seshat

import (
	"errors"

	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"github.com/seshat-go/seshat/signing"
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

// defaultIDs is seshat's own IDScheme: the cookie holds
// ID[.p].SIGNATURE, HMAC-SHA256 under a key derived from the manager's keys
// with a salt of its own.
type defaultIDs struct{ signer *signing.Signer }

func newDefaultIDs(keys [][]byte) (*defaultIDs, error) {
	s, err := signing.NewSigner(keys, signing.Options{
		Salt:          []byte(idSalt),
		KeyDerivation: signing.HMAC,
		Digest:        signing.SHA256,
	})
	if err != nil {
		return nil, err
	}
	return &defaultIDs{signer: s}, nil
}

func (d *defaultIDs) New() string { return newID() }

func (d *defaultIDs) Key(id string) string { return StoreKey(id) }

func (d *defaultIDs) Encode(id string, permanent bool) string {
	if permanent {
		id += permanentFlag
	}
	return string(d.signer.Sign([]byte(id)))
}

func (d *defaultIDs) Decode(value string) (string, bool, error) {
	tok, err := d.signer.Unsign([]byte(value))
	if err != nil {
		return "", false, err
	}
	id, permanent := strings.CutSuffix(string(tok), permanentFlag)
	if !validID(id) {
		return "", false, errMalformedID
	}
	return id, permanent, nil
}

var errMalformedID = errors.New("seshat: malformed session id")
