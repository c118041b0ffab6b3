package seshat

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with [errors.Is]; the errors seshat returns
// wrap them with the operation and, where it helps, a size or a type name, but
// never a cookie value, a session id or a key.
var (
	// ErrNoKeys is returned by [New] when Config.Keys is empty.
	ErrNoKeys = errors.New("seshat: no signing keys configured")
	// ErrWeakKey is returned by [New] for an empty or all-zero key, and for a
	// key shorter than [MinKeyLen] unless Config.AllowWeakKeys is set.
	ErrWeakKey = errors.New("seshat: signing key too weak")
	// ErrConfig is returned by [New] for an inconsistent cookie configuration,
	// such as SameSite=None without Secure or a __Host- name with a Domain.
	ErrConfig = errors.New("seshat: invalid configuration")
	// ErrNoSession is returned by [Lookup] when the context carries no session:
	// the handler is not wrapped by [Manager.Handler].
	ErrNoSession = errors.New("seshat: no session in context (wrap the handler with Manager.Handler)")
	// ErrNotFound is returned by [Get] when the key is not in the session.
	ErrNotFound = errors.New("seshat: key not in session")
	// ErrTypeMismatch is returned by [Get] when the stored value cannot be
	// converted to the requested type.
	ErrTypeMismatch = errors.New("seshat: stored value has another type")
	// ErrUnsupportedValue is returned by [Session.Set] for a value that has no
	// place in Flask's JSON data model (a channel, a func, a complex number...).
	ErrUnsupportedValue = errors.New("seshat: value not representable in a session")
	// ErrCookieTooLarge is reported when the Set-Cookie header would exceed
	// [MaxCookieSize] bytes; browsers drop such cookies silently, so seshat
	// refuses to send it. Use a server-side Store for large sessions.
	ErrCookieTooLarge = errors.New("seshat: session cookie too large")
	// ErrRecordTooLarge is reported, with a Store, when a request would
	// write more than Config.MaxRecordSize bytes of values.
	ErrRecordTooLarge = errors.New("seshat: session record too large")
	// ErrHeadersWritten is returned when a session is changed after the
	// response header went out; the change cannot reach the client.
	ErrHeadersWritten = errors.New("seshat: session changed after the response header was written")
	// ErrInvalidCookie marks why a cookie was not accepted (bad signature,
	// expired, malformed payload). It is reported by [Session.LoadError]; the
	// request still gets a fresh, empty session.
	ErrInvalidCookie = errors.New("seshat: session cookie rejected")
	// ErrSessionTimeout marks a session dropped because it outlived
	// Config.AbsoluteTimeout; [Session.LoadError] wraps it.
	ErrSessionTimeout = errors.New("seshat: session reached its absolute timeout")
	// ErrSessionRevoked marks a session dropped because its owner's
	// generation (Config.Generation) moved on since login, for instance
	// after a logout; [Session.LoadError] wraps it.
	ErrSessionRevoked = errors.New("seshat: session revoked (user generation changed)")
)

// CookieTooLargeError tells how large the refused Set-Cookie header was.
// errors.Is(err, ErrCookieTooLarge) is true for it.
type CookieTooLargeError struct {
	Size  int // bytes of "name=value; attributes"
	Limit int // MaxCookieSize
}

func (e *CookieTooLargeError) Error() string {
	return fmt.Sprintf("seshat: session cookie too large: %d bytes > %d (use a server-side Store)", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrCookieTooLarge) true.
func (e *CookieTooLargeError) Is(target error) bool { return target == ErrCookieTooLarge }

// errSaveFailed is what the handler's Write gets after the session could not
// be saved and the error response went out instead.
var errSaveFailed = errors.New("seshat: response replaced: the session could not be saved")
