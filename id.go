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
	var key [2 * sha256.Size]byte
	hex.Encode(key[:], sum[:])
	return string(key[:])
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
	id, permanent, _, err := d.decode(value)
	return id, permanent, err
}

// decode is Decode that also reports whether value is exactly what Encode
// gives for the id and permanence (see signing.Signer.UnsignReusable). The
// id is a substring of value: no copy.
func (d *defaultIDs) decode(value string) (id string, permanent, reusable bool, err error) {
	tok, reusable, err := d.signer.UnsignReusable([]byte(value))
	if err != nil {
		return "", false, false, err
	}
	id, permanent = strings.CutSuffix(value[:len(tok)], permanentFlag)
	if !validID(id) {
		return "", false, false, errMalformedID
	}
	return id, permanent, reusable, nil
}

var errMalformedID = errors.New("seshat: malformed session id")
