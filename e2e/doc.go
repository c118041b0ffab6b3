// Package e2e holds the browser tests of the demo app cmd/seshat-demo: they
// build the app, start it on loopback, and drive Debian's Chromium through
// it with chromedp (sign up, remember me across a browser restart, two-factor
// login, session revocation from a second browser, CSRF, the anonymous theme,
// the websocket page), and log in on a real Flask + Flask-Login app
// (flaskpeer/app.py) that shares the demo's signed session cookie.
//
// The package has only tests; see README.md for how to run them.
package e2e
