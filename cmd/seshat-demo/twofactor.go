package main

import (
	"errors"
	"net/http"
)

// routes2FA registers the two-factor pages (enrolment in settings, the
// second step of login).
func (a *app) routes2FA(mux *http.ServeMux) {}

// startSecondFactor keeps the half-finished login in the session and sends
// the browser to the code form.
func (a *app) startSecondFactor(w http.ResponseWriter, r *http.Request, u *user, remember bool, next string) {
	a.serverError(w, r, errors.New("two-factor login is not available yet"))
}
