// Package login is Flask-Login 0.6.2 for seshat sessions: it logs users in
// and out, loads the current user, protects handlers, and keeps users
// logged in with a remember-me cookie.
package login
