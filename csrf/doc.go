// Package csrf protects the forms and API calls of a seshat application
// against cross-site request forgery, with tokens that are Flask-WTF 1.1.1's:
// a Flask app using CSRFProtect with the same secret key and the same session
// cookie accepts the tokens minted here, and this package accepts Flask's.
//
// # How it works
//
// Two independent checks run on every request whose method is not GET, HEAD,
// OPTIONS or TRACE, unless its path is exempt:
//
//  1. The origin check: net/http's [http.CrossOriginProtection] (Go 1.25)
//     refuses what the browser marks cross-origin (Sec-Fetch-Site), or, for
//     browsers without it, an Origin header naming another host. Trusted
//     origins are whole origins, scheme included. Over HTTPS, an http://
//     Origin is refused too (the standard check compares hosts only).
//  2. The token check, Flask-WTF's: the session holds a random secret under
//     "csrf_token" (40 hex digits); the page carries a token, the secret
//     signed and timestamped with itsdangerous's URLSafeTimedSerializer
//     (salt "wtf-csrf-token"); the request returns it in the form field
//     "csrf_token" (or any field ending in it) or in the X-CSRFToken or
//     X-CSRF-Token header. The token must verify, be at most an hour old
//     (Options.TimeLimit) and carry the session's secret. Over HTTPS the
//     Referer must also be from https://<Host>/ (Flask-WTF's strict mode).
//
// A refused request gets 403 through Options.ErrorHandler, with one of the
// sentinel errors ([ErrTokenMissing], [ErrSessionTokenMissing],
// [ErrTokenExpired], [ErrTokenInvalid], [ErrTokensDoNotMatch],
// [ErrReferrerMissing], [ErrReferrerMismatch], [ErrBadOrigin]); their
// messages are Flask-WTF's (Flask-WTF answers 400). Nothing written or
// returned contains a token.
//
// # Setup
//
//	keys := [][]byte{secretKey} // Flask's SECRET_KEY (or WTF_CSRF_SECRET_KEY); ≥ 32 bytes unless AllowWeakKeys
//	sm, err := seshat.New(seshat.Config{Keys: keys})
//	if err != nil { ... }
//	protector, err := csrf.New(keys, csrf.Options{
//		TrustedOrigins: []string{"https://app.example.com"}, // optional
//		ExemptPaths:    []string{"/webhook"},                // optional, exact
//	})
//	if err != nil { ... }
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
//		token, err := csrf.Token(r) // the same token for the rest of the request
//		if err != nil {
//			http.Error(w, "server error", http.StatusInternalServerError)
//			return
//		}
//		page.Execute(w, token) // <input type="hidden" name="csrf_token" value="{{.}}">
//	})
//	mux.HandleFunc("POST /profile", func(w http.ResponseWriter, r *http.Request) {
//		// Reached only with a valid token from this session.
//	})
//	// The session middleware outside, the protector inside it:
//	http.ListenAndServe(":8080", sm.Handler(protector.Protect(mux)))
//
// JavaScript sends the token in the X-CSRFToken header, read from a <meta>
// tag. Behind a TLS-terminating proxy set Options.TrustForwardedProto, and
// only if the proxy overwrites X-Forwarded-Proto: the scheme is never taken
// from r.URL.Scheme. On login call [Rotate], so a token planted before login
// is worthless after it (package login's LoginUser, ConfirmLogin and
// LogoutUser do it for you).
//
// # Differences from Flask-WTF
//
// Deliberate: refusals are 403, not 400; the origin check is added; every
// unsafe method is checked, not only POST, PUT, PATCH and DELETE; when
// several form fields end in "csrf_token", they are tried in sorted order
// (Python keeps the form's order); a form body is read only on POST, PUT and
// PATCH (net/http's rule; Werkzeug reads one on any method), so a DELETE
// sends its token in a header. Tokens are not masked per response
// (BREACH): Flask-WTF's are not either, and masked tokens would not be
// Flask's; a token changes with its one-second timestamp. A compressible
// secret (never a random one) is compressed and labelled like Python's zlib,
// so even those tokens are byte-identical.
package csrf
