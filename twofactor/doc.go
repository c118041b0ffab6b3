// Package twofactor adds a second factor to package login: TOTP codes
// (RFC 6238) from an authenticator app, with one-time recovery codes, and
// the half-logged-in state between the password and the code kept in the
// session under Flask-Security-Too's tf_ keys.
//
// # Login
//
//	tf, err := twofactor.New(twofactor.Config{
//		Issuer:   "Example",
//		Store:    tfStore, // the application's database, or twofactor.NewMemoryStore()
//		Login:    lm,      // the login.Manager
//		LoadUser: loadUser, // the same function as login.Config.LoadUser
//	})
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		u, ok := checkPassword(r)
//		if !ok { ...; return }
//		pending, err := tf.Begin(w, r, u, r.FormValue("remember") == "on")
//		if err != nil { ...; return }
//		if pending {
//			http.Redirect(w, r, "/login/code", http.StatusSeeOther) // ask for the code
//			return
//		}
//		http.Redirect(w, r, "/", http.StatusSeeOther) // no second factor: logged in
//	})
//	mux.HandleFunc("POST /login/code", func(w http.ResponseWriter, r *http.Request) {
//		_, err := tf.Complete(w, r, r.FormValue("code")) // TOTP or recovery code
//		switch {
//		case err == nil: // logged in, session renewed
//		case errors.Is(err, twofactor.ErrInvalidCode), errors.Is(err, twofactor.ErrReplayed):
//			// show the form again
//		default: // ErrLocked, ErrExpired, ErrNotPending: back to the password
//		}
//	})
//
// Begin logs in at once a user who has no second factor. For one who has,
// it renews the session and sets tf_user_id, tf_state ("ready"),
// tf_primary_method ("authenticator"), tf_remember_login (when asked to
// remember) and seshat's tf_started; nobody is logged in, so
// login.Manager.Required refuses the session. Complete checks the code,
// clears the tf_ keys and calls login.LoginUser. The pending login lasts
// Config.PendingTTL (5 minutes); a lockout, an expiry or a gone user clear
// it, a wrong code does not (a typo should not cost the password).
// LastAuth then tells when and with which factor the session's user logged
// in, for actions that want a recent second factor.
//
// # Codes
//
// TOTP codes are 6 digits, SHA-1, 30-second steps (what every
// authenticator app reads from a plain otpauth URI), accepted one step
// either side of the server's clock. The last accepted step is stored, so
// each code works once and an older one never works after a newer one.
// Recovery codes are 80 random bits, shown as xxxx-xxxx-xxxx-xxxx; the
// Store keeps only SHA-256 hashes, and each works once. Config.MaxFailures
// (5) wrong codes in a row lock the user for Config.Lockout (15 minutes),
// with every code refused unchecked meanwhile. The failure count lives in
// the Store, not in the session, so replaying an old cookie buys no
// attempts. The lock is per user: only someone past the password step (or
// calling Verify) can trigger it, and then it also stops the user, so
// alert on repeated lockouts.
//
// # Enrolment
//
// Enroll draws a secret and returns it with its otpauth:// URI and a QR
// code PNG; ConfirmEnrolment, given a first code from the app, puts it in
// force and returns the recovery codes (shown once). Until then an older
// second factor stays in force. NewRecoveryCodes, Disable and Status serve
// a settings page. The secret stays in the Store: it never enters the
// session, whose cookie-mode payload the client can read. With
// Config.SecretKeys the Store holds it encrypted (AES-256-GCM, bound to
// the user id, keys rotated like seshat's); otherwise in clear.
//
// # Store
//
// [Store] is two methods, Get and an atomic Update of one user's [State];
// an SQL implementation is one row per user (the State as JSON, or a
// column per field) updated in a transaction. [MemoryStore] is the
// in-process one. Package storetest checks an implementation, atomicity
// included, on its real engine.
//
// # Flask-Security-Too
//
// The session keys and values are those of Flask-Security-Too 5.1
// (tf_plugin.py, twofactor.py), so a Flask app using it reads seshat's
// pending login, and its tf_clean_session (on logout, say) removes
// seshat's keys except tf_started, which seshat ignores without the
// others. Flask-Security stores the user's fs_uniquifier in tf_user_id;
// the two apps agree only if that is the application's user id.
package twofactor
