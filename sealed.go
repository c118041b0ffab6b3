package seshat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/seshat-go/seshat/signing"
	"github.com/seshat-go/seshat/taggedjson"
)

// A sealed cookie (Config.EncryptCookie) is, in unpadded base64url:
//
//	version (1 byte, 1) | salt (16) | nonce (12) | AES-256-GCM(timestamp (8, big-endian Unix seconds) | tagged JSON)
//
// with "version | cookie name" as additional data, so a value moved to a
// cookie of another name does not open. Each cookie is sealed under its own
// key, HMAC-SHA256(master, salt), where master is HMAC-SHA256 of a signing
// key and a label of its own (no key is used both to sign and to encrypt).
// The 128-bit random salt on top of GCM's 96-bit random nonce keeps
// nonce reuse out of reach however many cookies a key seals, past GCM's
// 2^32 messages per key. The payload is never compressed: compressing
// attacker-chosen values with secrets would leak the secrets through the
// length (CRIME, BREACH).
const (
	sealVersion  = 1
	sealSaltLen  = 16
	sealNonceLen = 12
	sealHeader   = 1 + sealSaltLen + sealNonceLen
	sealOverhead = sealHeader + 8 + 16 // header, timestamp, GCM tag
)

// sealLabel separates the encryption master keys from every other key
// derived from Config.Keys.
const sealLabel = "seshat.cookie-encryption.v1"

// sealer seals and opens cookie-mode sessions. It is safe for concurrent use.
type sealer struct {
	masters    [][]byte // newest key first
	aad        []byte   // version | cookie name
	maxDecoded int
}

func newSealer(keys [][]byte, cookieName string, maxDecoded int) *sealer {
	s := &sealer{aad: append([]byte{sealVersion}, cookieName...), maxDecoded: maxDecoded}
	for i := len(keys) - 1; i >= 0; i-- {
		mac := hmac.New(sha256.New, keys[i])
		mac.Write([]byte(sealLabel))
		s.masters = append(s.masters, mac.Sum(nil))
	}
	return s
}

// gcm returns the AEAD of master for one cookie's salt.
func gcm(master, salt []byte) cipher.AEAD {
	mac := hmac.New(sha256.New, master)
	mac.Write(salt)
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		panic("seshat: AES-256 key: " + err.Error()) // a 32-byte key always works
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("seshat: GCM: " + err.Error())
	}
	return aead
}

// appendSeal appends the sealed cookie value of values, made at time at.
func (s *sealer) appendSeal(dst []byte, values map[string]any, at time.Time) ([]byte, error) {
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 256), uint64(at.Unix()))
	plain, err := taggedjson.AppendMarshal(plain, values)
	if err != nil {
		return dst, fmt.Errorf("seshat: encode session: %w", err)
	}
	raw := make([]byte, sealHeader, sealOverhead+len(plain))
	raw[0] = sealVersion
	rand.Read(raw[1:sealHeader]) // never fails (crypto/rand, Go 1.24+)
	salt, nonce := raw[1:1+sealSaltLen], raw[1+sealSaltLen:sealHeader]
	raw = gcm(s.masters[0], salt).Seal(raw, nonce, plain, s.aad)
	return base64.RawURLEncoding.AppendEncode(dst, raw), nil
}

// open returns the session in a sealed cookie value. maxAge < 0 skips the
// age check. Errors wrap ErrInvalidCookie and a signing sentinel, as
// CookieCodec.Decode's do, and never contain the value.
func (s *sealer) open(value string, maxAge time.Duration, now time.Time) (map[string]any, error) {
	if base64.RawURLEncoding.DecodedLen(len(value)) > sealOverhead+s.maxDecoded {
		return nil, fmt.Errorf("%w: %w: sealed cookie too long", ErrInvalidCookie, signing.ErrBadPayload)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) < sealOverhead || raw[0] != sealVersion {
		return nil, fmt.Errorf("%w: %w: not a sealed session cookie", ErrInvalidCookie, signing.ErrBadSignature)
	}
	salt, nonce, box := raw[1:1+sealSaltLen], raw[1+sealSaltLen:sealHeader], raw[sealHeader:]
	var plain []byte
	for _, m := range s.masters {
		if plain, err = gcm(m, salt).Open(box[:0:0], nonce, box, s.aad); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w: sealed cookie does not open under any key", ErrInvalidCookie, signing.ErrBadSignature)
	}
	ts := int64(binary.BigEndian.Uint64(plain))
	if maxAge >= 0 {
		if age := now.Unix() - ts; age < 0 || age > int64(maxAge/time.Second) {
			return nil, fmt.Errorf("%w: %w: sealed cookie age %d s, limit %d s", ErrInvalidCookie, signing.ErrSignatureExpired, age, int64(maxAge/time.Second))
		}
	}
	return unmarshalSession(plain[8:])
}
