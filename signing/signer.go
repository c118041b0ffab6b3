package signing

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"time"
)

// Signer mirrors itsdangerous.Signer: it appends sep and a base64url
// HMAC of the value, and verifies such tokens.
//
// Keys are given oldest first. The newest (last) key signs; every key
// verifies, tried from newest to oldest, so a key can be rotated by appending
// the new one and dropping the old one once its tokens have expired.
//
// A Signer is safe for concurrent use.
type Signer struct {
	sep    byte
	digest Digest
	// verify holds one macKey per secret, newest first; verify[0] signs.
	verify []*macKey
}

// NewSigner returns a Signer for keys (oldest first, newest last). It reports
// an error when keys is empty, a key is empty, or opts is invalid (a
// separator from the base64 alphabet, an unknown Digest or KeyDerivation).
// The derived keys are computed here, once, and only they are kept (with
// NoDerivation, that is a copy of each secret).
func NewSigner(keys [][]byte, opts Options) (*Signer, error) {
	c, err := opts.resolve(DefaultSignerSalt)
	if err != nil {
		return nil, err
	}
	return newSigner(keys, c)
}

func newSigner(keys [][]byte, c signerConfig) (*Signer, error) {
	if len(keys) == 0 {
		return nil, configError("no secret keys")
	}
	s := &Signer{sep: c.sep, digest: c.digest, verify: make([]*macKey, len(keys))}
	for i, k := range keys {
		if len(k) == 0 {
			return nil, configError("secret key %d of %d is empty", i+1, len(keys))
		}
		s.verify[len(keys)-1-i] = newMACKey(c.digest, DeriveKey(k, c.salt, c.kd, c.digest))
	}
	return s, nil
}

// sigLen is the length of an encoded signature.
func (s *Signer) sigLen() int { return base64.RawURLEncoding.EncodedLen(s.digest.Size()) }

// Sign returns value ‖ sep ‖ signature in a new slice.
func (s *Signer) Sign(value []byte) []byte {
	return s.AppendSign(make([]byte, 0, len(value)+1+s.sigLen()), value)
}

// AppendSign appends value ‖ sep ‖ signature to dst and returns the extended
// slice. It does not allocate when dst has room for len(value)+1+27 bytes
// (43 for SHA-256, 86 for SHA-512). value may be the bytes just past
// len(dst) in dst's backing array (signing a body in place).
func (s *Signer) AppendSign(dst, value []byte) []byte {
	st := s.verify[0].get()
	sum := st.mac(value)
	dst = append(dst, value...)
	dst = append(dst, s.sep)
	dst = appendBase64(dst, sum)
	s.verify[0].put(st)
	return dst
}

// appendSigOf appends sep ‖ signature(dst[start:]) to dst: the MAC covers
// bytes already written, as TimestampSigner needs.
func (s *Signer) appendSigOf(dst []byte, start int) []byte {
	st := s.verify[0].get()
	sum := st.mac(dst[start:])
	dst = append(dst, s.sep)
	dst = appendBase64(dst, sum)
	s.verify[0].put(st)
	return dst
}

// Unsign verifies signed and returns the value before the last separator. The
// returned slice aliases signed (no copy is made). Errors are *Error with
// Kind ErrBadSignature: "No b'.' found in value" when there is no separator,
// "Signature b'...' does not match" (with Payload set to the value) when no
// key produces the signature.
func (s *Signer) Unsign(signed []byte) ([]byte, error) {
	i := bytes.LastIndexByte(signed, s.sep)
	if i < 0 {
		return nil, errNoSep(s.sep)
	}
	value, sig := signed[:i], signed[i+1:]
	if !s.verifySig(value, sig) {
		return nil, errMismatch(ErrBadSignature, sig, value, time.Time{})
	}
	return value, nil
}

// UnsignReusable is Unsign that also reports whether signing the value again
// would give signed back byte for byte: the newest key made the signature
// and it is written in canonical base64 (Unsign also accepts the variants
// lenient decoding allows). A caller may then send signed again instead of
// signing anew; after a key rotation, or for an odd spelling, it must not.
func (s *Signer) UnsignReusable(signed []byte) (value []byte, reusable bool, err error) {
	i := bytes.LastIndexByte(signed, s.sep)
	if i < 0 {
		return nil, false, errNoSep(s.sep)
	}
	value, sig := signed[:i], signed[i+1:]
	ok, newest := s.verifySigKey(value, sig)
	if !ok {
		return nil, false, errMismatch(ErrBadSignature, sig, value, time.Time{})
	}
	if newest {
		// Canonical when encoding the decoded MAC gives sig back.
		var raw [64]byte
		var canon [88]byte
		n, _ := decodeLenient(raw[:], sig)
		reusable = hmac.Equal(appendBase64(canon[:0], raw[:n]), sig)
	}
	return value, reusable, nil
}

// Validate reports whether signed carries a valid signature, without
// building an error.
func (s *Signer) Validate(signed []byte) bool {
	i := bytes.LastIndexByte(signed, s.sep)
	return i >= 0 && s.verifySig(signed[:i], signed[i+1:])
}

// verifySig reports whether sig is the signature of value under any key.
// Like itsdangerous it base64-decodes sig (leniently) and compares the MAC
// bytes in constant time, newest key first. An undecodable signature simply
// does not match.
func (s *Signer) verifySig(value, sig []byte) bool {
	ok, _ := s.verifySigKey(value, sig)
	return ok
}

// verifySigKey is verifySig that also reports whether the newest key (the
// one Sign uses) made the signature.
func (s *Signer) verifySigKey(value, sig []byte) (ok, newest bool) {
	first := s.verify[0].get()
	defer s.verify[0].put(first)
	// A decoded signature longer than the buffer (64 bytes, the largest
	// digest) cannot match; decodeLenient reports that as an error.
	n, err := decodeLenient(first.sig[:], sig)
	if err != nil {
		return false, false
	}
	want := first.sig[:n]
	if len(want) != s.digest.Size() {
		return false, false
	}
	if hmac.Equal(first.mac(value), want) {
		return true, true
	}
	for _, k := range s.verify[1:] {
		st := k.get()
		ok := hmac.Equal(st.mac(value), want)
		k.put(st)
		if ok {
			return true, false
		}
	}
	return false, false
}
