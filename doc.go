// Package seshat gives Go's net/http the web sessions of Flask: a
// request-scoped [Session] with Flask's semantics, kept in a signed cookie
// in Flask's own format (byte-for-byte Flask's with Config.FlaskCompression),
// so a Go service and a Flask app with the same secret key share sessions in
// both directions.
//
// # Quick start
//
//	sm, err := seshat.New(seshat.Config{
//		Keys: [][]byte{oldKey, newKey}, // newest last: SECRET_KEY_FALLBACKS..., SECRET_KEY
//	})
//	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
//		s := seshat.FromContext(r.Context())
//		n := seshat.GetOr(s, "items", 0)
//		s.Set("items", n+1)
//	})
//	http.ListenAndServe(":8080", sm.Handler(mux))
//
// # Flask's rules
//
// The middleware follows Flask's SecureCookieSessionInterface exactly:
//
//   - Every cookie is checked against Config.Lifetime (Flask's
//     PERMANENT_SESSION_LIFETIME), permanent or not; a cookie from the
//     future is refused too.
//   - A session is written back when it was modified, or when it is
//     permanent and refresh-each-request is on (the default), which slides
//     its expiry. Only permanent sessions get an Expires attribute.
//   - A session emptied during the request deletes the cookie, even when the
//     browser sent none.
//   - A response gets "Vary: Cookie" when the session was read or written,
//     with Flask 3.1's meaning of "read": Has, Len and Keys count.
//   - Set-Cookie attributes come in Werkzeug's order, so headers compare
//     equal to Flask's for the same configuration.
//
// Where Flask is unsafe or fragile, seshat differs on purpose: SameSite
// defaults to Lax and Secure is set on TLS requests; a response that sets the
// cookie gets "Cache-Control: private" unless the handler chose one; a
// validly signed cookie whose payload does not decode is an empty session
// with a reason (Flask answers 500); a cookie over [MaxCookieSize] is an
// error (Werkzeug only warns, and browsers then drop it); short keys are
// refused unless Config.AllowWeakKeys says a Flask app shares one.
//
// One difference is for speed: itsdangerous zlib-compresses every payload
// that compression shortens; seshat compresses only payloads of at least
// [CompressThreshold] bytes, where it pays. Flask reads compressed and plain
// cookies alike, so this changes only the bytes seshat writes;
// Config.FlaskCompression restores Flask's choice, and with it Set-Cookie
// headers byte-identical to Flask's.
//
// # Timeouts and revocation
//
// Off by default, so that cookies stay Flask's: Config.IdleTimeout and
// Config.AbsoluteTimeout end idle and old sessions server-side (the start
// time is kept in the signed session under [CreatedKey]);
// Config.RenewAfter gives a store-mode session a new id mid-session, with a
// grace period for concurrent requests; Config.Generation checks a per-user
// counter the application bumps at logout, so a copied cookie-mode cookie
// is refused afterwards. A session ended by them is replaced by an empty one
// whose LoadError wraps [ErrSessionTimeout] or [ErrSessionRevoked].
// docs/SECURITY.md maps every promise to its test.
//
// # Encrypted cookies
//
// Flask's cookie is signed, not encrypted: the client can read it. With
// Config.EncryptCookie a cookie-mode session is sealed with AES-256-GCM
// instead (keys derived from Config.Keys, the cookie name bound to the
// ciphertext, never compressed); Flask cannot read such a cookie. Store
// mode keeps the values on the server and needs neither.
//
// # Lazy and cheap
//
// Nothing is verified until a handler touches the session. A request that
// never does so costs no cryptography unless the cookie holds a permanent
// session, which Flask re-issues on every request. With a store, a write
// that keeps a non-permanent session's id sends no Set-Cookie at all: the
// browser already holds that cookie (Flask-Session sends it again; the
// bytes would change nothing). A new or renewed id, a permanent session's
// sliding Expires, or a cookie signed by an older key is always sent.
//
// In cookie mode the Manager also remembers the sessions it parsed out of
// the last few hundred cookie payloads (Config.ParsedCookies): a client that
// sends the same cookie again, which is most requests, gets a private copy of
// the parsed session instead of a second base64 and JSON decode, and when the
// cookie is byte for byte one already verified, no second HMAC (its age is
// checked on every request). Any other cookie is verified in full before
// anything cached is used for it. Likewise an unchanged permanent session
// re-issued twice in the same second gets the same Set-Cookie header the
// second time, byte for byte what signing again would give.
//
// # Values
//
// Values follow Flask's JSON data model (see package taggedjson): Set
// converts Go values into it, [Get] converts back. Go structs are stored as
// their JSON objects.
//
// # Outside a request
//
// A websocket outlives its handshake: the middleware commits the session when
// the connection is hijacked, and no header can follow. [Manager.Detach]
// loads the session by its cookie at the handshake and gives a [Detached]
// copy whose Save merges later changes into the store like a request's save
// (concurrent requests changing other keys lose nothing) and whose Reload
// reads what they saved. In cookie mode nothing can be written after the
// upgrade; Save reports [ErrNoCookieAfterUpgrade] and the copy stays the
// connection's own, as with Flask-SocketIO's manage_session.
//
// # Logs
//
// [Session.Fingerprint] is a short keyed hash that names a session (with a
// store) or its user (cookie mode) in logs without revealing the id or the
// cookie; package sessionlog adds it to every slog line of a request.
//
// # Errors
//
// Errors wrap exported sentinels ([ErrNoKeys], [ErrCookieTooLarge],
// [ErrInvalidCookie], ...) and the signing package's sentinels, for
// [errors.Is]. Nothing seshat logs or returns contains a cookie value, a
// session id or a key.
package seshat
