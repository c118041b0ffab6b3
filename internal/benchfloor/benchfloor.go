// Package benchfloor is the reference the cookie benchmarks compare seshat
// with: the least work a Flask-format cookie session can do, written by
// hand with the standard library (encoding/json, base64url, one
// HMAC-SHA1 over Flask's payload.timestamp layout; no compression, no
// tagged JSON, no key derivation), and the small session every cookie
// benchmark uses. It lives here so that the core benchmarks and the bench
// module measure against the same code.
package benchfloor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
)

// Key is the signing key of the floor and of the benchmarks that compare
// with it.
var Key = []byte("0123456789abcdef0123456789abcdef")

// Session returns the small session of the cookie benchmarks: what a Flask
// app with Flask-Login and Flask-WTF holds for a logged-in user with a
// cart. Each call returns a new map.
func Session() map[string]any {
	return map[string]any{
		"_fresh":     true,
		"_user_id":   "42",
		"csrf_token": "3f786850e387550fdab836ed7e6dc881de23001b",
		"cart":       []any{int64(1), int64(2), int64(3)},
		"theme":      "dark",
	}
}

// ErrSignature is what Decode returns for a value whose signature does not
// verify.
var ErrSignature = errors.New("benchfloor: bad signature")

// Encode signs m, timestamped ts, as payload.timestamp.signature.
func Encode(m map[string]any, ts int64) (string, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	var tsb [8]byte
	binary.BigEndian.PutUint64(tsb[:], uint64(ts))
	signed := base64.RawURLEncoding.EncodeToString(js) + "." + base64.RawURLEncoding.EncodeToString(bytes.TrimLeft(tsb[:], "\x00"))
	mac := hmac.New(sha1.New, Key)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Decode verifies v's signature, then decodes its payload.
func Decode(v string) (map[string]any, error) {
	sigAt := bytes.LastIndexByte([]byte(v), '.')
	if sigAt < 0 {
		return nil, ErrSignature
	}
	sig, err := base64.RawURLEncoding.DecodeString(v[sigAt+1:])
	if err != nil {
		return nil, ErrSignature
	}
	mac := hmac.New(sha1.New, Key)
	mac.Write([]byte(v[:sigAt]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, ErrSignature
	}
	js, err := base64.RawURLEncoding.DecodeString(v[:bytes.IndexByte([]byte(v), '.')])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, err
	}
	return m, nil
}
