package signing

import (
	"fmt"
	"time"
)

// SerializerOptions configure the serializers. The zero value is
// itsdangerous's defaults.
type SerializerOptions struct {
	// Options are the signer options. A nil Salt means
	// DefaultSerializerSalt ("itsdangerous"), the serializers' default.
	Options
	// Codec serializes values. nil means the class's itsdangerous default:
	// [JSON] (compact) for the URL-safe serializers, [PlainJSON]
	// (json.dumps defaults) for [Serializer].
	Codec Codec
	// Compression applies to the URL-safe serializers; the plain
	// Serializer never compresses.
	Compression Compression
	// MaxDecompressedSize caps a decompressed payload in Loads; 0 means
	// DefaultMaxDecompressedSize. Python has no cap; a payload over it is
	// ErrBadPayload with the zlib message.
	MaxDecompressedSize int
}

type serializerConfig struct {
	signer   signerConfig
	codec    Codec
	compress Compression
	maxSize  int
}

func (o SerializerOptions) resolve(defaultCodec Codec) (serializerConfig, error) {
	sc, err := o.Options.resolve(DefaultSerializerSalt)
	if err != nil {
		return serializerConfig{}, err
	}
	c := serializerConfig{signer: sc, codec: o.Codec, compress: o.Compression, maxSize: o.MaxDecompressedSize}
	if c.codec == nil {
		c.codec = defaultCodec
	}
	if !c.compress.valid() {
		return c, configError("unknown compression %d", int(c.compress))
	}
	if c.maxSize < 0 {
		return c, configError("negative MaxDecompressedSize %d", c.maxSize)
	}
	if c.maxSize == 0 {
		c.maxSize = DefaultMaxDecompressedSize
	}
	return c, nil
}

// marshal runs the codec; a failure is a programming error (an unsupported
// value), not bad data, as in itsdangerous where json.dumps raises TypeError.
func marshal(c Codec, v any) ([]byte, error) {
	b, err := c.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("signing: marshal payload: %w", err)
	}
	return b, nil
}

// unmarshal runs the codec on a verified payload; a failure is BadPayload.
func unmarshal(c Codec, data []byte, v any) error {
	if err := c.Unmarshal(data, v); err != nil {
		return errPayload(reasonUnmarshal, err)
	}
	return nil
}

// Serializer mirrors itsdangerous.Serializer: token = payload ‖ sep ‖
// signature, with the payload (JSON by default) neither encoded nor
// compressed. Safe for concurrent use.
type Serializer struct {
	signer *Signer
	codec  Codec
}

// NewSerializer returns a Serializer for keys (oldest first, newest last).
func NewSerializer(keys [][]byte, o SerializerOptions) (*Serializer, error) {
	c, err := o.resolve(PlainJSON)
	if err != nil {
		return nil, err
	}
	s, err := newSigner(keys, c.signer)
	if err != nil {
		return nil, err
	}
	return &Serializer{signer: s, codec: c.codec}, nil
}

// Dumps serializes v and signs it.
func (s *Serializer) Dumps(v any) (string, error) {
	payload, err := marshal(s.codec, v)
	if err != nil {
		return "", err
	}
	return string(s.signer.Sign(payload)), nil
}

// Loads verifies token and unmarshals its payload into v (a pointer). The
// payload is decoded only after the signature has been verified. Errors:
// ErrBadSignature as [Signer.Unsign]; ErrBadPayload when the codec fails.
func (s *Serializer) Loads(token string, v any) error {
	payload, err := s.signer.Unsign([]byte(token))
	if err != nil {
		return err
	}
	return unmarshal(s.codec, payload, v)
}

// URLSafeSerializer mirrors itsdangerous.URLSafeSerializer: token =
// body ‖ sep ‖ signature, where body is [AppendURLSafeBody] of the JSON.
// Safe for concurrent use.
type URLSafeSerializer struct {
	signer   *Signer
	codec    Codec
	compress Compression
	maxSize  int
}

// NewURLSafeSerializer returns a URLSafeSerializer for keys (oldest first,
// newest last).
func NewURLSafeSerializer(keys [][]byte, o SerializerOptions) (*URLSafeSerializer, error) {
	c, err := o.resolve(JSON)
	if err != nil {
		return nil, err
	}
	s, err := newSigner(keys, c.signer)
	if err != nil {
		return nil, err
	}
	return &URLSafeSerializer{signer: s, codec: c.codec, compress: c.compress, maxSize: c.maxSize}, nil
}

// Dumps serializes v, encodes it (compressing per the Compression option)
// and signs it.
func (s *URLSafeSerializer) Dumps(v any) (string, error) {
	payload, err := marshal(s.codec, v)
	if err != nil {
		return "", err
	}
	body := AppendURLSafeBody(make([]byte, 0, len(payload)*4/3+3+s.signer.sigLen()), payload, bodyCompression(s.compress, payload, s.maxSize))
	return string(s.signer.AppendSign(body[:0], body)), nil
}

// Loads verifies token, then decodes its body and unmarshals it into v.
// Errors: ErrBadSignature as [Signer.Unsign]; ErrBadPayload for bad base64,
// zlib or JSON, with itsdangerous's messages.
func (s *URLSafeSerializer) Loads(token string, v any) error {
	body, err := s.signer.Unsign([]byte(token))
	if err != nil {
		return err
	}
	return loadBody(body, s.maxSize, s.codec, v)
}

func loadBody(body []byte, maxSize int, c Codec, v any) error {
	payload, err := DecodeURLSafeBody(body, maxSize)
	if err != nil {
		return err
	}
	return unmarshal(c, payload, v)
}

// URLSafeTimedSerializer mirrors itsdangerous.URLSafeTimedSerializer: token =
// body.TS.SIG, the URL-safe body signed by a [TimestampSigner]. This is the
// format of Flask's session cookie (with salt "cookie-session", HMAC key
// derivation and Flask's tagged JSON codec) and of Flask-WTF's CSRF tokens.
// Safe for concurrent use.
type URLSafeTimedSerializer struct {
	signer   *TimestampSigner
	codec    Codec
	compress Compression
	maxSize  int
	now      func() time.Time
}

// NewURLSafeTimedSerializer returns a URLSafeTimedSerializer for keys (oldest
// first, newest last); o.Now is the clock for Dumps and LoadsMaxAge.
func NewURLSafeTimedSerializer(keys [][]byte, o SerializerOptions) (*URLSafeTimedSerializer, error) {
	c, err := o.resolve(JSON)
	if err != nil {
		return nil, err
	}
	t, err := newTimestampSigner(keys, c.signer)
	if err != nil {
		return nil, err
	}
	return &URLSafeTimedSerializer{signer: t, codec: c.codec, compress: c.compress, maxSize: c.maxSize, now: c.signer.now}, nil
}

// Dumps serializes, encodes and signs v with the current time.
func (s *URLSafeTimedSerializer) Dumps(v any) (string, error) {
	return s.DumpsAt(v, s.now())
}

// DumpsAt is Dumps with the timestamp at.
func (s *URLSafeTimedSerializer) DumpsAt(v any, at time.Time) (string, error) {
	payload, err := marshal(s.codec, v)
	if err != nil {
		return "", err
	}
	body := AppendURLSafeBody(make([]byte, 0, len(payload)*4/3+3+12+s.signer.s.sigLen()), payload, bodyCompression(s.compress, payload, s.maxSize))
	return string(s.signer.AppendSignAt(body[:0], body, at)), nil
}

// Loads verifies token without an age check (itsdangerous's max_age=None)
// and unmarshals its payload into v. Errors as for LoadsMaxAge, except
// ErrSignatureExpired.
func (s *URLSafeTimedSerializer) Loads(token string, v any) error {
	body, _, err := s.signer.Unsign([]byte(token))
	if err != nil {
		return err
	}
	return loadBody(body, s.maxSize, s.codec, v)
}

// LoadsMaxAge verifies token, checks that it is at most maxAge old (by the
// serializer's clock), and unmarshals its payload into v; it returns the
// signing time. Errors: those of [TimestampSigner.UnsignMaxAge], then
// ErrBadPayload for bad base64, zlib or JSON. An expired token is reported
// as expired even if its payload is bad: the payload is not decoded.
func (s *URLSafeTimedSerializer) LoadsMaxAge(token string, v any, maxAge time.Duration) (signedAt time.Time, err error) {
	body, signedAt, err := s.signer.UnsignMaxAge([]byte(token), maxAge, s.now())
	if err != nil {
		return time.Time{}, err
	}
	if err := loadBody(body, s.maxSize, s.codec, v); err != nil {
		return time.Time{}, err
	}
	return signedAt, nil
}

// bodyCompression is the Compression for one payload: c, except that a
// payload larger than maxSize is never compressed, so a serializer never
// makes a token its own Loads would refuse (an uncompressed body is not
// capped; Python has no cap at all).
func bodyCompression(c Compression, payload []byte, maxSize int) Compression {
	if c != CompressNever && len(payload) > maxSize {
		return CompressNever
	}
	return c
}
