package taggedjson

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can branch with errors.Is.
var (
	// ErrSyntax: the input is not JSON as Python's json.loads accepts it
	// (including invalid UTF-8, which Python rejects before parsing).
	ErrSyntax = errors.New("invalid JSON")

	// ErrTooDeep: arrays and objects nest deeper than DefaultMaxDepth, in the
	// input (Unmarshal) or in the output (Marshal).
	ErrTooDeep = errors.New("nesting too deep")

	// ErrInvalidTag: the JSON is well formed but a tagged value is one that
	// Flask itself fails to load (for example {" t":5} or {" b":"AP8Qw6k"});
	// Flask raises BadPayload for these.
	ErrInvalidTag = errors.New("invalid tagged value")

	// ErrNotObject: UnmarshalObject got a payload that does not make a session.
	ErrNotObject = errors.New("payload is not an object")

	// ErrUnsupportedType: Marshal or Normalize got a Go type the model cannot
	// represent (channels, funcs, complex numbers, maps with keys that are
	// neither strings nor integers, ...).
	ErrUnsupportedType = errors.New("unsupported type")

	// ErrUnsupportedValue: Marshal got a value of a supported type that has no
	// Python equivalent (a string that is not UTF-8, a time outside Python's
	// datetime range, a nil *big.Int, NaN in plain JSON).
	ErrUnsupportedValue = errors.New("unsupported value")

	// ErrTypeMismatch: Convert cannot store the model value in the target.
	ErrTypeMismatch = errors.New("type mismatch")
)

// Error is the concrete type of the errors returned by this package. It
// unwraps to one of the sentinels above.
type Error struct {
	// Kind is the sentinel this error wraps.
	Kind error
	// Offset is the byte offset in the input where the problem was found, or
	// -1 when the error is not about a position in an input.
	Offset int
	// Msg says what is wrong. It never quotes more than a few bytes of input,
	// because session payloads are attacker-controlled and may be large.
	Msg string
}

// Error formats the error as "taggedjson: <kind>: <msg> (at offset N)".
func (e *Error) Error() string {
	s := "taggedjson: " + e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Offset >= 0 {
		s += " (at offset " + strconv.Itoa(e.Offset) + ")"
	}
	return s
}

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, off int, msg string) *Error {
	return &Error{Kind: kind, Offset: off, Msg: msg}
}

// quoteSnippet quotes at most a few bytes of attacker-controlled input for an
// error message.
func quoteSnippet(s string) string {
	const max = 16
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
