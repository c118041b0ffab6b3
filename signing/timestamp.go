package signing

import (
	"bytes"
	"encoding/binary"
	"time"
)

// maxTimestamp is 9999-12-31T23:59:59Z, the last second Python's datetime
// can represent. itsdangerous converts every timestamp it reports to a
// datetime, which fails beyond that (ValueError or "Malformed timestamp"
// depending on the code path); this package treats such timestamps as
// malformed on every path.
const maxTimestamp = 253402300799

// TimestampSigner mirrors itsdangerous.TimestampSigner: it signs
// value ‖ sep ‖ base64url(timestamp) and appends sep ‖ signature, so a token
// is value.TS.SIG with the signature covering value.TS. The timestamp is the
// signing time in whole Unix seconds, big-endian with leading zero bytes
// stripped (4 bytes until 2106, empty for 0).
//
// Keys rotate as for [Signer]. A TimestampSigner is safe for concurrent use.
type TimestampSigner struct {
	s   *Signer
	now func() time.Time
}

// NewTimestampSigner returns a TimestampSigner for keys (oldest first, newest
// last); opts as for [NewSigner], with opts.Now as the clock for Sign.
func NewTimestampSigner(keys [][]byte, opts Options) (*TimestampSigner, error) {
	c, err := opts.resolve(DefaultSignerSalt)
	if err != nil {
		return nil, err
	}
	return newTimestampSigner(keys, c)
}

func newTimestampSigner(keys [][]byte, c signerConfig) (*TimestampSigner, error) {
	s, err := newSigner(keys, c)
	if err != nil {
		return nil, err
	}
	return &TimestampSigner{s: s, now: c.now}, nil
}

// Sign returns value.TS.SIG for the current time (opts.Now).
func (t *TimestampSigner) Sign(value []byte) []byte {
	return t.SignAt(value, t.now())
}

// SignAt returns value.TS.SIG with the timestamp at (truncated to whole
// seconds, as Python's int(time.time()) does).
func (t *TimestampSigner) SignAt(value []byte, at time.Time) []byte {
	return t.AppendSignAt(make([]byte, 0, len(value)+1+11+1+t.s.sigLen()), value, at)
}

// AppendSignAt appends value.TS.SIG to dst and returns the extended slice. It
// does not allocate when dst has room for the token (len(value) + 41 bytes
// covers SHA-1 until the year 2106). value may be the bytes just past
// len(dst) in dst's backing array, so a caller can write a body and then sign
// it in place.
//
// Times before 1970 are signed as timestamp 0 (itsdangerous cannot encode
// them at all; it raises struct.error).
func (t *TimestampSigner) AppendSignAt(dst, value []byte, at time.Time) []byte {
	start := len(dst)
	dst = append(dst, value...)
	dst = append(dst, t.s.sep)
	dst = appendTimestamp(dst, pyUnix(at))
	return t.s.appendSigOf(dst, start)
}

// appendTimestamp appends base64url of ts as big-endian bytes with leading
// zero bytes stripped (itsdangerous's int_to_bytes). Negative ts is 0.
func appendTimestamp(dst []byte, ts int64) []byte {
	if ts <= 0 {
		return dst
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts))
	i := 0
	for b[i] == 0 {
		i++
	}
	return appendBase64(dst, b[i:])
}

// pyUnix is Python's int(t.timestamp()): seconds truncated toward zero.
func pyUnix(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && t.Nanosecond() > 0 {
		s++
	}
	return s
}

// decodeTimestamp is bytes_to_int(base64_decode(b)): lenient base64, at most
// 8 bytes, big-endian. ok is false where itsdangerous fails to decode.
func decodeTimestamp(b []byte) (ts uint64, ok bool) {
	var buf [8]byte
	n, err := decodeLenient(buf[:], b)
	if err != nil {
		return 0, false
	}
	for _, c := range buf[:n] {
		ts = ts<<8 | uint64(c)
	}
	return ts, true
}

// Unsign verifies signed (value.TS.SIG) and returns the value and the signing
// time, without an age check (itsdangerous's max_age=None). value aliases
// signed. See [TimestampSigner.UnsignMaxAge] for the errors.
func (t *TimestampSigner) Unsign(signed []byte) (value []byte, signedAt time.Time, err error) {
	return t.unsign(signed, false, 0, time.Time{})
}

// UnsignMaxAge is Unsign plus itsdangerous's age check: age = now − TS in
// whole seconds; age > maxAge or age < 0 (a timestamp in the future) is
// ErrSignatureExpired. An age equal to maxAge is accepted.
//
// Errors (*Error), in itsdangerous's order of checks:
//   - no separator at all: ErrBadSignature "No b'.' found in value";
//   - signature mismatch: ErrBadTimeSignature "Signature b'...' does not
//     match" with Payload = value and DateSigned = TS when TS decodes — but
//     plain ErrBadSignature when the signed part has no second separator;
//   - signature valid but no timestamp part: ErrBadTimeSignature "timestamp
//     missing";
//   - timestamp not base64, longer than 8 bytes, or past the year 9999:
//     ErrBadTimeSignature "Malformed timestamp";
//   - too old or in the future: ErrSignatureExpired "Signature age 5 > 3
//     seconds" / "Signature age -5 < 0 seconds" with DateSigned.
//
// Only the signature is checked before anything is decoded; the timestamp of
// an unverified token is decoded (into 8 bytes at most) solely to report
// DateSigned, as itsdangerous does.
func (t *TimestampSigner) UnsignMaxAge(signed []byte, maxAge time.Duration, now time.Time) (value []byte, signedAt time.Time, err error) {
	return t.unsign(signed, true, maxAge, now)
}

// Validate reports whether signed carries a valid signature and a well-formed
// timestamp (no age check), without building an error.
func (t *TimestampSigner) Validate(signed []byte) bool {
	_, _, ok := t.verify(signed)
	return ok
}

// verify is the success path of unsign: it returns the value and timestamp
// of a token whose signature and timestamp are good.
func (t *TimestampSigner) verify(signed []byte) (value []byte, ts uint64, ok bool) {
	sep := t.s.sep
	i := bytes.LastIndexByte(signed, sep)
	if i < 0 || !t.s.verifySig(signed[:i], signed[i+1:]) {
		return nil, 0, false
	}
	j := bytes.LastIndexByte(signed[:i], sep)
	if j < 0 {
		return nil, 0, false
	}
	ts, ok = decodeTimestamp(signed[j+1 : i])
	if !ok || ts > maxTimestamp {
		return nil, 0, false
	}
	return signed[:j], ts, true
}

func (t *TimestampSigner) unsign(signed []byte, checkAge bool, maxAge time.Duration, now time.Time) ([]byte, time.Time, error) {
	value, ts, ok := t.verify(signed)
	if !ok {
		return nil, time.Time{}, t.failure(signed)
	}
	signedAt := time.Unix(int64(ts), 0).UTC()
	if checkAge {
		if err := CheckAge(value, signedAt, maxAge, now); err != nil {
			return nil, time.Time{}, err
		}
	}
	return value, signedAt, nil
}

// CheckAge is the age check of [TimestampSigner.UnsignMaxAge] on its own,
// for a caller that verified value, signed at signedAt, earlier: it returns
// the same ErrSignatureExpired errors, for a signature older than maxAge or
// dated in the future, and nil otherwise.
func CheckAge(value []byte, signedAt time.Time, maxAge time.Duration, now time.Time) error {
	age := pyUnix(now) - signedAt.Unix()
	if olderThan(age, maxAge) {
		return errExpired(age, maxAge, value, signedAt)
	}
	if age < 0 {
		return errFuture(age, value, signedAt)
	}
	return nil
}

// failure builds the error for a token verify rejected, following the
// branches of itsdangerous's TimestampSigner.unsign. It is off the hot path.
func (t *TimestampSigner) failure(signed []byte) error {
	sep := t.s.sep
	i := bytes.LastIndexByte(signed, sep)
	if i < 0 {
		return errNoSep(sep)
	}
	result, sig := signed[:i], signed[i+1:]
	sigOK := t.s.verifySig(result, sig)
	j := bytes.LastIndexByte(result, sep)
	if j < 0 {
		if !sigOK {
			return errMismatch(ErrBadSignature, sig, result, time.Time{})
		}
		return errTimestampMissing(result)
	}
	value := result[:j]
	ts, tsOK := decodeTimestamp(result[j+1:])
	if tsOK && ts > maxTimestamp {
		return errMalformedTimestamp(value)
	}
	if !sigOK {
		var date time.Time
		if tsOK {
			date = time.Unix(int64(ts), 0).UTC()
		}
		return errMismatch(ErrBadTimeSignature, sig, value, date)
	}
	return errMalformedTimestamp(value)
}

// olderThan reports age > maxAge for a whole-second age and a Duration that
// may have a fractional second, without overflowing into nanoseconds.
func olderThan(age int64, maxAge time.Duration) bool {
	whole, frac := int64(maxAge/time.Second), maxAge%time.Second
	return age > whole || age == whole && frac < 0
}
