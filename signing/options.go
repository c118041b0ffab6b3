package signing

import "time"

// Default salts, as in itsdangerous.
const (
	// DefaultSignerSalt is Signer's default salt ("itsdangerous.Signer").
	DefaultSignerSalt = "itsdangerous.Signer"
	// DefaultSerializerSalt is the serializers' default salt ("itsdangerous").
	DefaultSerializerSalt = "itsdangerous"
)

// Options are the itsdangerous Signer keyword arguments. The zero value is
// itsdangerous's defaults: the type's default salt, sep ".", django-concat,
// SHA-1, and time.Now.
type Options struct {
	// Salt separates signatures made for different purposes with the same
	// secret. nil means the type's default (DefaultSignerSalt for signers,
	// DefaultSerializerSalt for serializers); a non-nil empty slice is an
	// empty salt.
	Salt []byte
	// Sep separates value, timestamp and signature. 0 means '.'. It must not
	// be an ASCII letter, digit, '-', '_' or '=' (those can occur in the
	// base64 signature), which is an error at construction.
	Sep byte
	// KeyDerivation derives the HMAC key from each secret and the salt.
	KeyDerivation KeyDerivation
	// Digest is the hash for key derivation and HMAC.
	Digest Digest
	// Now is the clock for signing timestamps (nil means time.Now).
	Now func() time.Time
}

// signerConfig is Options resolved against defaults and validated.
type signerConfig struct {
	salt   []byte
	sep    byte
	kd     KeyDerivation
	digest Digest
	now    func() time.Time
}

func (o Options) resolve(defaultSalt string) (signerConfig, error) {
	c := signerConfig{salt: o.Salt, sep: o.Sep, kd: o.KeyDerivation, digest: o.Digest, now: o.Now}
	if c.salt == nil {
		c.salt = []byte(defaultSalt)
	}
	if c.sep == 0 {
		c.sep = '.'
	}
	if inBase64Alphabet(c.sep) {
		return c, configError("separator %q cannot be used because it may be contained in the signature itself (ASCII letters, digits and '-_=' are not allowed)", c.sep)
	}
	if !c.kd.valid() {
		return c, configError("unknown key derivation %v", c.kd)
	}
	if !c.digest.valid() {
		return c, configError("unknown digest %v", c.digest)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// inBase64Alphabet reports whether c is in itsdangerous's _base64_alphabet,
// the characters a separator may not be.
func inBase64Alphabet(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '='
}
