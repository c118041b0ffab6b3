package signing

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// sentinel is one itsdangerous exception class. parent is its base class, so
// errors.Is walks the same chain Python's isinstance does.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }

// Is reports whether target is one of s's base classes; errors.Is has already
// checked s itself.
func (s *sentinel) Is(target error) bool {
	return s.parent != nil && errors.Is(s.parent, target)
}

// The itsdangerous exception classes, as sentinels for errors.Is. Every error
// this package returns for a token is an [*Error] whose Kind is one of these;
// errors.Is(err, X) is true for its Kind and for each ancestor of the Kind:
//
//	ErrBadData
//	├── ErrBadSignature
//	│   └── ErrBadTimeSignature
//	│       └── ErrSignatureExpired
//	└── ErrBadPayload
//
// ErrBadPayload is not an ErrBadSignature: it means the signature was valid
// but the signed data did not decode, which Flask does not catch (HTTP 500).
var (
	// ErrBadData mirrors itsdangerous.BadData, the base of all the others.
	ErrBadData error = &sentinel{msg: "signing: bad data"}
	// ErrBadSignature mirrors itsdangerous.BadSignature: no separator, or a
	// signature that matches none of the keys.
	ErrBadSignature error = &sentinel{msg: "signing: bad signature", parent: ErrBadData}
	// ErrBadTimeSignature mirrors itsdangerous.BadTimeSignature: a timestamped
	// token whose signature or timestamp is bad.
	ErrBadTimeSignature error = &sentinel{msg: "signing: bad time signature", parent: ErrBadSignature}
	// ErrSignatureExpired mirrors itsdangerous.SignatureExpired: valid
	// signature, but older than the maximum age or dated in the future.
	ErrSignatureExpired error = &sentinel{msg: "signing: signature expired", parent: ErrBadTimeSignature}
	// ErrBadPayload mirrors itsdangerous.BadPayload: valid signature, but the
	// payload is not valid base64, zlib or JSON (or decompresses past the
	// size limit).
	ErrBadPayload error = &sentinel{msg: "signing: bad payload", parent: ErrBadData}
)

// reason tells Error.Error which fixed text to use. Keeping the text apart
// from Message means logs never see the token bytes Message quotes.
type reason uint8

const (
	reasonNone reason = iota
	reasonNoSep
	reasonMismatch
	reasonTimestampMissing
	reasonMalformedTimestamp
	reasonExpired
	reasonFuture
	reasonBase64
	reasonZlib
	reasonTooLarge
	reasonUnmarshal
)

// The BadPayload messages itsdangerous uses, verbatim.
const (
	msgBase64    = "Could not base64 decode the payload because of an exception"
	msgZlib      = "Could not zlib decompress the payload before decoding the payload"
	msgUnmarshal = "Could not load the payload because an exception occurred on unserializing the data."
)

// Error is the error returned for a token that does not verify or decode. It
// carries what the corresponding itsdangerous exception carries.
type Error struct {
	// Kind is the most specific sentinel (ErrBadSignature,
	// ErrBadTimeSignature, ErrSignatureExpired or ErrBadPayload).
	Kind error
	// Message is the exact text itsdangerous puts in the exception, for
	// tests and for compatibility checks. It can quote the token's signature
	// bytes, so do not log it; Error() is the loggable text.
	Message string
	// Payload is what itsdangerous exposes as e.payload: the signed value
	// that failed verification (a copy, not an alias of the token), or nil
	// where itsdangerous gives None. It is attacker-controlled data.
	Payload []byte
	// DateSigned is the token's timestamp where itsdangerous gives
	// e.date_signed (time errors with a decodable timestamp), in UTC; zero
	// where it gives None. Note that a timestamp of 0 is 1970-01-01, not
	// the zero time.
	DateSigned time.Time
	// Err is the underlying cause for ErrBadPayload (a base64, zlib or codec
	// error), nil otherwise.
	Err error

	why    reason
	age    int64         // reasonExpired, reasonFuture
	maxAge time.Duration // reasonExpired
}

// Error returns a short fixed description. It never contains the payload, the
// signature, a key or the cause's text (a JSON syntax error can quote the
// payload), because these strings end up in logs.
func (e *Error) Error() string {
	switch e.why {
	case reasonNoSep:
		return "signing: no separator in value"
	case reasonMismatch:
		return "signing: signature does not match"
	case reasonTimestampMissing:
		return "signing: timestamp missing"
	case reasonMalformedTimestamp:
		return "signing: malformed timestamp"
	case reasonExpired:
		return "signing: signature expired (age " + strconv.FormatInt(e.age, 10) + "s > " + pySeconds(e.maxAge) + "s)"
	case reasonFuture:
		return "signing: signature expired (age " + strconv.FormatInt(e.age, 10) + "s < 0s)"
	case reasonBase64:
		return "signing: bad payload (invalid base64)"
	case reasonZlib:
		return "signing: bad payload (zlib decompression failed)"
	case reasonTooLarge:
		return "signing: bad payload (decompressed size over the limit)"
	case reasonUnmarshal:
		return "signing: bad payload (could not unmarshal)"
	}
	if e.Kind != nil {
		return e.Kind.Error()
	}
	return "signing: bad data"
}

// Is reports whether target is e.Kind or one of its ancestors, so
// errors.Is(err, ErrBadSignature) holds for an expired signature.
func (e *Error) Is(target error) bool {
	return e.Kind != nil && errors.Is(e.Kind, target)
}

// Unwrap returns the underlying cause (for ErrBadPayload), or nil.
func (e *Error) Unwrap() error { return e.Err }

// cloneBytes copies b so an error never aliases a caller's buffer; nil stays
// nil and empty stays empty, like Python's None and b"".
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func errNoSep(sep byte) *Error {
	return &Error{Kind: ErrBadSignature, Message: "No " + pyBytesRepr([]byte{sep}) + " found in value", why: reasonNoSep}
}

// errMismatch is BadSignature("Signature b'...' does not match", payload).
// kind is ErrBadTimeSignature when a TimestampSigner re-raises it.
func errMismatch(kind error, sig, payload []byte, date time.Time) *Error {
	return &Error{
		Kind:       kind,
		Message:    "Signature " + pyBytesRepr(sig) + " does not match",
		Payload:    cloneBytes(payload),
		DateSigned: date,
		why:        reasonMismatch,
	}
}

func errTimestampMissing(payload []byte) *Error {
	return &Error{Kind: ErrBadTimeSignature, Message: "timestamp missing", Payload: cloneBytes(payload), why: reasonTimestampMissing}
}

func errMalformedTimestamp(payload []byte) *Error {
	return &Error{Kind: ErrBadTimeSignature, Message: "Malformed timestamp", Payload: cloneBytes(payload), why: reasonMalformedTimestamp}
}

func errExpired(age int64, maxAge time.Duration, payload []byte, date time.Time) *Error {
	return &Error{
		Kind:       ErrSignatureExpired,
		Message:    "Signature age " + strconv.FormatInt(age, 10) + " > " + pySeconds(maxAge) + " seconds",
		Payload:    cloneBytes(payload),
		DateSigned: date,
		why:        reasonExpired,
		age:        age,
		maxAge:     maxAge,
	}
}

func errFuture(age int64, payload []byte, date time.Time) *Error {
	return &Error{
		Kind:       ErrSignatureExpired,
		Message:    "Signature age " + strconv.FormatInt(age, 10) + " < 0 seconds",
		Payload:    cloneBytes(payload),
		DateSigned: date,
		why:        reasonFuture,
		age:        age,
	}
}

func errPayload(why reason, cause error) *Error {
	msg := msgUnmarshal
	switch why {
	case reasonBase64:
		msg = msgBase64
	case reasonZlib, reasonTooLarge:
		msg = msgZlib
	}
	return &Error{Kind: ErrBadPayload, Message: msg, Err: cause, why: why}
}

// pySeconds formats a max age the way the Python message would print the
// max_age argument: an int when it is whole seconds, else a float repr.
func pySeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
}

// pyBytesRepr returns Python's repr() of a bytes object, e.g. b'abc' or
// b"it's", so Message matches itsdangerous's text exactly.
func pyBytesRepr(b []byte) string {
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range b {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(b)+3)
	out = append(out, 'b', quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			out = append(out, '\\', c)
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			out = append(out, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return string(append(out, quote))
}

// configError reports bad constructor arguments. It is not a BadData: like
// itsdangerous's ValueError, it is a programming error, not a bad token.
func configError(format string, args ...any) error {
	return fmt.Errorf("signing: "+format, args...)
}
