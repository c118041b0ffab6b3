package signing

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"sync"
)

// Digest is the hash function used for key derivation and for the HMAC,
// itsdangerous's digest_method.
type Digest int

const (
	// SHA1 is itsdangerous's default (hashlib.sha1) and what Flask uses.
	SHA1 Digest = iota
	// SHA256 is hashlib.sha256.
	SHA256
	// SHA512 is hashlib.sha512.
	SHA512
)

// String returns the hashlib name: "sha1", "sha256" or "sha512".
func (d Digest) String() string {
	switch d {
	case SHA1:
		return "sha1"
	case SHA256:
		return "sha256"
	case SHA512:
		return "sha512"
	}
	return "Digest(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the digest length in bytes (20, 32 or 64), or 0 for an
// unknown Digest.
func (d Digest) Size() int {
	switch d {
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case SHA512:
		return sha512.Size
	}
	return 0
}

func (d Digest) valid() bool { return d.Size() != 0 }

// newFunc returns the constructor of the hash; d must be valid.
func (d Digest) newFunc() func() hash.Hash {
	switch d {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}

// KeyDerivation is how the signing key is derived from a secret and the salt,
// itsdangerous's key_derivation.
type KeyDerivation int

const (
	// DjangoConcat is "django-concat", itsdangerous's default:
	// H(salt ‖ "signer" ‖ secret).
	DjangoConcat KeyDerivation = iota
	// Concat is "concat": H(salt ‖ secret).
	Concat
	// HMAC is "hmac": HMAC-H(key=secret, msg=salt). Flask's session cookie
	// uses it.
	HMAC
	// NoDerivation is "none": the secret itself is the HMAC key.
	NoDerivation
)

// String returns the itsdangerous name: "django-concat", "concat", "hmac" or
// "none".
func (k KeyDerivation) String() string {
	switch k {
	case DjangoConcat:
		return "django-concat"
	case Concat:
		return "concat"
	case HMAC:
		return "hmac"
	case NoDerivation:
		return "none"
	}
	return "KeyDerivation(" + strconv.Itoa(int(k)) + ")"
}

func (k KeyDerivation) valid() bool { return k >= DjangoConcat && k <= NoDerivation }

// DeriveKey returns the HMAC key itsdangerous's Signer.derive_key computes
// for secret and salt. The result is a new slice. It panics on a Digest or
// KeyDerivation that is not one of the declared constants (a programming
// error; the constructors report it as an error instead).
func DeriveKey(secret, salt []byte, kd KeyDerivation, d Digest) []byte {
	if !d.valid() {
		panic("signing: DeriveKey: unknown " + d.String())
	}
	newHash := d.newFunc()
	switch kd {
	case DjangoConcat:
		h := newHash()
		h.Write(salt)
		h.Write([]byte("signer"))
		h.Write(secret)
		return h.Sum(nil)
	case Concat:
		h := newHash()
		h.Write(salt)
		h.Write(secret)
		return h.Sum(nil)
	case HMAC:
		m := hmac.New(newHash, secret)
		m.Write(salt)
		return m.Sum(nil)
	case NoDerivation:
		return append([]byte(nil), secret...)
	}
	panic("signing: DeriveKey: unknown " + kd.String())
}

// macKey computes HMACs under one derived key. hmac.New costs several
// allocations and two hash blocks of setup, so each key keeps a pool of ready
// states; crypto/hmac's Reset restores the precomputed inner and outer pads
// cheaply.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is one HMAC instance plus scratch space for its output and for a
// decoded signature, so computing and comparing a MAC allocates nothing.
type macState struct {
	h   hash.Hash
	sum [64]byte // the HMAC output (up to SHA-512's 64 bytes)
	sig [64]byte // a decoded signature to compare against
}

func newMACKey(d Digest, key []byte) *macKey {
	newHash := d.newFunc()
	k := &macKey{}
	k.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	return k
}

func (k *macKey) get() *macState { return k.pool.Get().(*macState) }

func (k *macKey) put(s *macState) {
	s.h.Reset()
	k.pool.Put(s)
}

// mac returns HMAC(msg), valid until s is put back.
func (s *macState) mac(msg []byte) []byte {
	s.h.Write(msg)
	return s.h.Sum(s.sum[:0])
}
