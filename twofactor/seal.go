package twofactor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// sealedPrefix marks a TOTP secret encrypted with Config.SecretKeys.
const sealedPrefix = "enc1:"

// sealer encrypts TOTP secrets at rest with AES-256-GCM. The AES key is
// derived from each configured key (HMAC-SHA256 with a purpose label), so
// an application may reuse a key it has for something else; the user id is
// the additional data, so a sealed secret copied to another user's row
// does not decrypt.
type sealer struct {
	aeads []cipher.AEAD // the last one seals
}

func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	s := &sealer{}
	for _, k := range keys {
		if len(k) < 32 {
			return nil, errors.New("every SecretKeys entry needs at least 32 bytes")
		}
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte("seshat.twofactor.secret-at-rest"))
		block, err := aes.NewCipher(mac.Sum(nil))
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// seal returns what the store keeps for secret: the secret itself without
// keys, else its encryption.
func (s *sealer) seal(userID, secret string) string {
	if s == nil {
		return secret
	}
	a := s.aeads[len(s.aeads)-1]
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24)
	out := a.Seal(nonce, nonce, []byte(secret), aad(userID))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out)
}

// open returns the secret in a stored value, and whether it should be
// sealed again (stored in clear while keys are configured, or under an
// older key). A value without the prefix is taken as a secret stored in
// clear, so that keys can be added to a running application.
func (s *sealer) open(userID, stored string) (secret string, reseal bool, err error) {
	body, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, s != nil && stored != "", nil
	}
	if s == nil {
		return "", false, ErrDecrypt
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", false, ErrDecrypt
	}
	for i := len(s.aeads) - 1; i >= 0; i-- {
		a := s.aeads[i]
		if len(raw) < a.NonceSize() {
			return "", false, ErrDecrypt
		}
		pt, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], aad(userID))
		if err == nil {
			return string(pt), i != len(s.aeads)-1, nil
		}
	}
	return "", false, ErrDecrypt
}

func aad(userID string) []byte { return []byte("seshat.twofactor.secret\x00" + userID) }
