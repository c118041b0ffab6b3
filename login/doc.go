// Package login is Flask-Login 0.6.2 for seshat sessions: it logs users in
// and out, loads the current user once per request, protects handlers,
// guards sessions against theft (session protection), and keeps users
// logged in with a remember-me cookie.
//
// # Setup
//
//	sm, err := seshat.New(seshat.Config{Keys: [][]byte{sessionKey}, Store: store})
//	cp, err := csrf.New([][]byte{sessionKey}, csrf.Options{}) // Flask-WTF tokens + origin checks
//	lm, err := login.New(login.Config{
//		LoadUser: func(ctx context.Context, id string) (login.User, error) {
//			return db.UserByID(ctx, id) // nil, nil when there is none
//		},
//		LoginURL:   "/login",
//		RefreshURL: "/login",
//		Tokens:     tokenStore, // or Keys: [][]byte{rememberKey}
//		KeepOnLogin: []string{"cart", "theme"}, // every other pre-login key is dropped
//	})
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		u, ok := checkPassword(r)
//		if !ok { ...; return }
//		if err := lm.LoginUser(w, r, u, login.LoginOptions{Remember: r.FormValue("remember") == "on"}); err != nil { ... }
//		next, ok := login.SafeNext(r.FormValue("next"))
//		if !ok { next = "/" }
//		http.Redirect(w, r, next, http.StatusSeeOther)
//	})
//	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
//		lm.LogoutUser(w, r)
//		http.Redirect(w, r, "/", http.StatusSeeOther)
//	})
//	mux.Handle("/account", lm.Required(accountHandler))
//	mux.Handle("/account/password", lm.FreshRequired(passwordHandler))
//	// Forms carry the token: <input type="hidden" name="csrf_token" value="{{.CSRF}}">
//	// with tok, err := csrf.Token(r) in the handler that renders them.
//	http.ListenAndServe(":8080", sm.Handler(cp.Protect(lm.Handler(mux))))
//
// [Manager.Handler] must run inside seshat's Manager.Handler: it writes the
// remember cookie just before the response header, where Flask-Login's
// after_request hook does. csrf's Protect runs inside it too, so every
// POST, PUT, PATCH and DELETE — the login form included, before anyone is
// logged in — needs a valid token and a same-origin request.
//
// # Flask-Login's wire format
//
// The session keys are Flask-Login's: "_user_id", "_fresh", "_id" (the
// session identifier, see [Identifier]), "_remember" (consumed before the
// response, never stored) and "_remember_seconds"; "next" with
// Config.UseSessionForNext. A Flask app and a seshat app sharing the
// session cookie (same secret key) therefore share logins. Required and
// FreshRequired redirect and flash exactly as login_required and
// fresh_login_required do; the flash goes to Flask's "_flashes" list.
//
// Flask-Login computes "_id" from the first X-Forwarded-For address when
// that header is present, which any client can forge. seshat uses the
// connection's address unless Config.TrustForwardedFor says a proxy
// overwrites the header; a Flask app behind such a proxy needs it on to
// agree on "_id" (otherwise basic protection marks shared logins not fresh).
//
// # Remember-me cookies
//
// By default ([RememberTokens]) the remember cookie is seshat's own:
//
//   - With Config.Tokens (a [TokenStore]: [MemoryTokens] for tests and one
//     process, [SessionStoreTokens] to keep them in a seshat session store
//     such as Redis or SQL), it is
//     "selector:validator", 128 and 256 random bits, and the store keeps
//     only SHA-256(validator), the owner and the expiry. Each use rotates
//     the validator; presenting a rotated-out validator after
//     Config.TokenGrace is treated as theft and revokes every token of the
//     user (Config.OnTheft is told). Logout revokes the token it carried,
//     [Manager.RevokeRemembered] all of a user's. User ids get reused
//     (delete user 5, a new account becomes 5): set Config.UserStamp to
//     the account's uniquifier (Flask-Security-Too's fs_uniquifier, or its
//     creation time) and a token issued to the former account is refused
//     and deleted instead of logging the new one in; without it, call
//     RevokeRemembered when deleting a user.
//   - With Config.Keys only, it is a signed token carrying the user id, its
//     expiry and a generation number. There is no server state, so it is
//     neither rotated nor revocable one by one: logout deletes it from the
//     browser, not from a copy. Config.Generation returns the user's
//     current generation from the application's database; bumping it (on
//     "log out everywhere", a password change) revokes all of the user's
//     tokens at once; a generation unique to the account (its creation
//     time) also keeps a reused user id from inheriting the tokens of the
//     account that held it. Without Generation a copied token works until
//     it expires.
//
// [RememberFlask] issues Flask-Login's cookie, "user_id|hex(HMAC-SHA512(
// key, user_id))", with Flask-Login's name, attributes and defaults, so a
// Flask app reads it. It never expires on the server (only the browser
// drops it after its Expires) and cannot be revoked: a copy works as long
// as the key does. Use it only while a Flask app shares the cookie.
//
// In Flask-compatible mode a login from the remember cookie sets
// "_user_id" and "_fresh" but not "_id", exactly as Flask-Login 0.6.2 does;
// with strong protection the next request then fails the check and logs
// the user out (a Flask-Login quirk kept for parity). With seshat's tokens
// the remember login records "_id" too, so strong protection keeps it.
// Flask-compatible mode also refuses (LoginUser returns an error) to
// remember a user id with bytes Werkzeug would quote in a cookie value
// (spaces, commas, quotes, non-ASCII...).
//
// Remember durations over 400 days are refused (Config) or clamped
// (LoginOptions.Duration): RFC 6265bis caps cookie lifetimes there.
//
// # Lifecycle
//
// LoginUser renews the session (in store mode a new id, the old record
// deleted, against fixation) and records the owner with
// Session.SetUserID, so a store with a UserIndex can list and revoke a
// user's sessions. A login from the remember cookie renews the session too
// and is never fresh, so FreshRequired asks for the password again.
// LogoutUser removes Flask-Login's keys, deletes the remember cookie and
// renews the session, or destroys it with Config.DestroyOnLogout.
//
// LoginUser, ConfirmLogin and LogoutUser also rotate the CSRF secret (as
// csrf.Rotate does), so a token minted before the change of identity stops
// working (login CSRF). With Config.KeepOnLogin, LoginUser keeps only the
// listed keys of the anonymous session and drops the rest, so no flag set
// before authentication carries into it. In cookie mode logout cannot
// revoke a copied cookie unless seshat.Config.Generation is set and the
// application bumps the user's generation at logout (OnLogout is a good
// place).
//
// After a password change, LogoutOthers ends the user's other sessions and
// remember tokens and keeps the current session under a new id;
// LogoutEverywhere ends them all.
//
// # Redirects after login
//
// Flask-Login puts the requested URL in "next" and leaves checking it to
// the application. Always pass it through [SafeNext], which keeps only
// same-site relative paths.
//
// # Flash messages
//
// The login and refresh messages are flashed with package flash, in Flask's
// "_flashes" format, so flash.Messages in Go and get_flashed_messages in
// Flask both show them.
package login
