// Package interop holds seshat's live interoperability tests against real
// Flask: Flask 3.1 and Debian's Flask 2.2, each running interop/flaskapp/app.py
// under its own interpreter and serving on 127.0.0.1, side by side with the
// same routes served by seshat (internal/goapp) with the same keys, the same
// configuration and the same frozen clock. The tests send both the same HTTP
// requests and compare cookies, session contents and headers byte for byte.
//
// The package has no API; see README.md for what is tested and how to run it.
package interop
