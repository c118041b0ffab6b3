package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/twofactor"
)

// routes2FA registers the two-factor pages: the second step of login, and
// enrolment, recovery codes and disabling in settings.
func (a *app) routes2FA(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/2fa", a.codeForm)
	mux.HandleFunc("POST /login/2fa", a.checkCode)
	mux.HandleFunc("POST /login/2fa/cancel", a.cancelCode)
	req := func(f http.HandlerFunc) http.Handler { return a.lm.Required(f) }
	mux.Handle("GET /settings/2fa", req(a.twoFactorPage))
	mux.Handle("GET /settings/2fa/qr.png", req(a.qrCode))
	mux.Handle("POST /settings/2fa", req(a.confirmTwoFactor))
	mux.Handle("POST /settings/2fa/recovery", req(a.newRecoveryCodes))
	mux.Handle("POST /settings/2fa/disable", req(a.disableTwoFactor))
}

// enrolments keeps each user's latest unconfirmed enrolment in memory, for
// the <img> request that follows the page and to show the same secret again
// after a mistyped code. The secret never enters the session, whose
// cookie-mode payload the browser can read; the store keeps it encrypted.
type enrolments struct {
	mu sync.Mutex
	m  map[string]*twofactor.Enrolment
}

func (q *enrolments) put(userID string, e *twofactor.Enrolment) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = map[string]*twofactor.Enrolment{}
	}
	q.m[userID] = e
}

func (q *enrolments) get(userID string) *twofactor.Enrolment {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.m[userID]
}

func (q *enrolments) drop(userID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.m, userID)
}

// codeData is the data of the code form.
type codeData struct {
	Next string
}

func (a *app) codeForm(w http.ResponseWriter, r *http.Request) {
	if _, err := a.tf.Pending(r); err != nil {
		a.pendingLost(w, r, err)
		return
	}
	next, _ := login.SafeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "login2fa", "Two-factor login", codeData{Next: next})
}

// checkCode is the second step of login: a TOTP code or a recovery code.
func (a *app) checkCode(w http.ResponseWriter, r *http.Request) {
	next, ok := login.SafeNext(r.PostFormValue("next"))
	if !ok {
		next = "/"
	}
	userID, err := a.tf.Pending(r)
	if err != nil {
		a.pendingLost(w, r, err)
		return
	}
	method, err := a.tf.Complete(w, r, r.PostFormValue("code"))
	switch {
	case err == nil:
		u, err := a.users.ByID(r.Context(), userID)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		msg := "Logged in with your authenticator code. Welcome, " + u.Email + "."
		if method == twofactor.MethodRecovery {
			msg = "Logged in with a recovery code (it is now used up). Welcome, " + u.Email + "."
			if st, err := a.tf.Status(r.Context(), u.ID()); err == nil {
				msg += " " + strconv.Itoa(st.RecoveryCodesLeft) + " recovery codes left."
			}
		}
		a.finishLogin(w, r, u, msg, next)
	case errors.Is(err, twofactor.ErrInvalidCode), errors.Is(err, twofactor.ErrReplayed):
		a.log.InfoContext(r.Context(), "second factor refused", "reason", err.Error())
		text := "That code is not right. Try the current code from your app, or a recovery code."
		if errors.Is(err, twofactor.ErrReplayed) {
			text = "That code was already used. Wait for the next one."
		}
		a.flash(r, "error", text)
		a.render(w, r, http.StatusUnauthorized, "login2fa", "Two-factor login", codeData{Next: next})
	default:
		a.pendingLost(w, r, err)
	}
}

// pendingLost sends the browser back to the password form when no login
// waits for a code (never begun, expired, locked out).
func (a *app) pendingLost(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, twofactor.ErrLocked):
		a.flash(r, "error", "Too many wrong codes: two-factor login is locked for 15 minutes.")
	case errors.Is(err, twofactor.ErrExpired):
		a.flash(r, "error", "The login took too long. Enter your password again.")
	case errors.Is(err, twofactor.ErrNotPending):
		a.flash(r, "info", "Log in with your password first.")
	default:
		a.serverError(w, r, err)
		return
	}
	redirect(w, r, "/login")
}

func (a *app) cancelCode(w http.ResponseWriter, r *http.Request) {
	a.tf.Cancel(r)
	a.flash(r, "info", "Login cancelled.")
	redirect(w, r, "/login")
}

// twoFactorData is the data of the settings/2fa page.
type twoFactorData struct {
	Status twofactor.Status
	Secret string // base32, while enrolling
	URI    string
}

// twoFactorPage starts an enrolment (a new secret and QR code) for a user
// without a second factor, or shows the status of the one in force.
func (a *app) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	u := a.currentUser(r)
	st, err := a.tf.Status(r.Context(), u.ID())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d := twoFactorData{Status: st}
	if !st.Enrolled {
		e, err := a.tf.Enroll(r.Context(), u.ID(), u.Email)
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		a.enrolling.put(u.ID(), e)
		d.Secret, d.URI = e.Secret, e.URI
	}
	a.render(w, r, http.StatusOK, "twofactor", "Two-factor authentication", d)
}

func (a *app) qrCode(w http.ResponseWriter, r *http.Request) {
	e := a.enrolling.get(a.currentUser(r).ID())
	if e == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store") // it holds the secret
	w.Write(e.PNG)
}

// recoveryData is the data of the page that shows recovery codes once.
type recoveryData struct {
	Codes []string
}

func (a *app) confirmTwoFactor(w http.ResponseWriter, r *http.Request) {
	u := a.currentUser(r)
	codes, err := a.tf.ConfirmEnrolment(r.Context(), u.ID(), r.PostFormValue("code"))
	switch {
	case err == nil:
		a.enrolling.drop(u.ID())
		a.log.InfoContext(r.Context(), "two-factor enabled", "user", u.ID())
		a.flash(r, "success", "Two-factor authentication enabled. Your next login asks for a code.")
		a.render(w, r, http.StatusOK, "recovery", "Recovery codes", recoveryData{Codes: codes})
	case errors.Is(err, twofactor.ErrInvalidCode):
		e := a.enrolling.get(u.ID())
		if e == nil { // restarted since the page was shown: start again
			a.flash(r, "error", "That code does not match. Scan the new QR code below and try again.")
			redirect(w, r, "/settings/2fa")
			return
		}
		a.flash(r, "error", "That code does not match: check the time on your phone and try the next one.")
		a.render(w, r, http.StatusUnprocessableEntity, "twofactor", "Two-factor authentication",
			twoFactorData{Secret: e.Secret, URI: e.URI})
	case errors.Is(err, twofactor.ErrNotEnrolled):
		redirect(w, r, "/settings/2fa")
	default:
		a.serverError(w, r, err)
	}
}

func (a *app) newRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	codes, err := a.tf.NewRecoveryCodes(r.Context(), a.currentUser(r).ID())
	if errors.Is(err, twofactor.ErrNotEnrolled) {
		redirect(w, r, "/settings/2fa")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.flash(r, "success", "New recovery codes: the old ones no longer work.")
	a.render(w, r, http.StatusOK, "recovery", "Recovery codes", recoveryData{Codes: codes})
}

// disableTwoFactor asks for the password again: a session left open on a
// shared computer must not be enough to remove the second factor.
func (a *app) disableTwoFactor(w http.ResponseWriter, r *http.Request) {
	u := a.currentUser(r)
	ok, err := checkPassword(r.PostFormValue("password"), u.passwordHash)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !ok {
		a.flash(r, "error", "Wrong password: two-factor authentication stays on.")
		redirect(w, r, "/settings/2fa")
		return
	}
	if err := a.tf.Disable(r.Context(), u.ID()); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "two-factor disabled", "user", u.ID())
	a.flash(r, "info", "Two-factor authentication disabled.")
	redirect(w, r, "/settings")
}

// codeURL is where a pending login continues.
func codeURL(next string) string {
	if next == "" || next == "/" {
		return "/login/2fa"
	}
	return "/login/2fa?next=" + url.QueryEscape(next)
}
