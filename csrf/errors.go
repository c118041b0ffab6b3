package csrf

// The reasons a request is refused. The messages of the first seven are
// Flask-WTF 1.1.1's own, word for word. The error given to
// Options.ErrorHandler (and returned by [Protector.Check]) is one of them or
// wraps one, for errors.Is; none contains a token.
var (
	// ErrTokenMissing: the request carries no token (form field or header).
	ErrTokenMissing error = reason("The CSRF token is missing.")
	// ErrSessionTokenMissing: the session holds no CSRF secret (no form was
	// rendered for it, or the session expired or was reset).
	ErrSessionTokenMissing error = reason("The CSRF session token is missing.")
	// ErrTokenExpired: the token is older than Options.TimeLimit (or dated
	// in the future).
	ErrTokenExpired error = reason("The CSRF token has expired.")
	// ErrTokenInvalid: the token is not one this key signed (tampered,
	// truncated, another key or salt, garbage).
	ErrTokenInvalid error = reason("The CSRF token is invalid.")
	// ErrTokensDoNotMatch: the token is validly signed but was minted for
	// another session.
	ErrTokensDoNotMatch error = reason("The CSRF tokens do not match.")
	// ErrReferrerMissing: an HTTPS request without a Referer header (strict
	// referrer checking, Flask-WTF's WTF_CSRF_SSL_STRICT).
	ErrReferrerMissing error = reason("The referrer header is missing.")
	// ErrReferrerMismatch: an HTTPS request whose Referer is not
	// https://<Host>/ by scheme, host and port.
	ErrReferrerMismatch error = reason("The referrer does not match the host.")
	// ErrBadOrigin: the browser says the request is cross-origin
	// (Sec-Fetch-Site, or an Origin that is neither the request's host nor a
	// trusted origin), as decided by net/http's CrossOriginProtection, or an
	// http:// Origin posted to an HTTPS request. Not a Flask-WTF check.
	ErrBadOrigin error = reason("The request's origin is not allowed.")
	// ErrNoProtector: Token was called for a request that did not go
	// through [Protector.Protect].
	ErrNoProtector error = reason("csrf: no Protector for this request (wrap the handler with Protector.Protect)")
)

// reason is a refusal reason: its text is Flask-WTF's message.
type reason string

func (r reason) Error() string { return string(r) }

// originError is ErrBadOrigin with the reason CrossOriginProtection gave.
type originError struct{ cause error }

func (e *originError) Error() string {
	if e.cause == nil {
		return ErrBadOrigin.Error()
	}
	return ErrBadOrigin.Error() + " (" + e.cause.Error() + ")"
}

func (e *originError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrBadOrigin}
	}
	return []error{ErrBadOrigin, e.cause}
}
