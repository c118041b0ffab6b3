// Command seshat signs, verifies and decodes Flask session cookies.
//
// It speaks Flask's wire format exactly (itsdangerous URLSafeTimedSerializer,
// salt "cookie-session", HMAC key derivation, SHA-1, Flask's tagged JSON), so
// it can mint a cookie a Flask app accepts, check a cookie a Flask app made,
// and show what is inside one. Other teams use it as the black-box reference
// for interop checks, so its output and its error lines are stable.
//
// Usage:
//
//	seshat sign   [key options] [--salt S] [--at UNIX] < PAYLOAD
//	seshat verify [key options] [--salt S] [--max-age SECONDS] [--now UNIX] VALUE
//	seshat verify --sealed [key options] [--cookie-name NAME] [--max-age SECONDS] [--now UNIX] VALUE
//	seshat decode VALUE
//	seshat help [COMMAND]
//
// # sign
//
// sign reads a session on standard input, in Flask's tagged-JSON form (for
// example {"user":"alice","pair":{" t":[1,2]}}), and prints the Flask session
// cookie value for it, signed with the LAST key, followed by a newline. --at
// fixes the timestamp (Unix seconds); the default is the current time. An
// uncompressed value is byte for byte the one Flask makes for the same
// session, key and time. The payload is zlib-compressed when that is shorter
// by itsdangerous's rule, but with seshat's own zlib encoder: compressed bytes
// differ from Python's, and a payload Python's zlib would just manage to
// shrink may stay uncompressed. Flask reads either form.
//
// # verify
//
// verify checks VALUE's signature with every key and its age against
// --max-age (default 2678400 seconds, Flask's 31 days, applied to every
// cookie as Flask does), at --now (Unix seconds; default the real clock). On
// success it prints the session as Flask's compact tagged JSON (keys sorted,
// non-ASCII escaped, the bytes Flask signs) and exits 0. On failure it exits 1
// and prints exactly one of these lines on standard error:
//
//	seshat verify: bad signature
//	seshat verify: expired
//	seshat verify: malformed
//
// "bad signature": no key produced the signature, or the value is not a
// signed timed token at all (Flask: BadSignature, BadTimeSignature).
// "expired": the signature is good but older than --max-age, or its timestamp
// lies in the future (Flask: SignatureExpired). "malformed": the signature is
// good but the payload does not decode (Flask: BadPayload, an HTTP 500 in a
// Flask app).
//
// With --sealed, VALUE is a cookie a seshat Manager sealed with
// Config.EncryptCookie (AES-256-GCM; not Flask's format, and Flask cannot
// read it). verify opens it with every key, checks its age the same way and
// prints the same output or the same three reasons; a cookie that does not
// open under any key, or under the --cookie-name given (default "session":
// the seal binds the cookie's name), is a "bad signature". --max-age must be
// at least 1 there.
//
// # decode
//
// decode prints the session inside VALUE without checking its signature or
// age, and says so on standard error ("seshat decode: signature not
// verified"). It is for debugging; never trust its output. On a value it
// cannot decode it exits 1 with "seshat decode: malformed". A sealed cookie
// (Config.EncryptCookie) cannot be decoded without its keys: use verify
// --sealed.
//
// For verify and decode, VALUE "-" reads the value from standard input, so a
// live cookie need not appear in the process list.
//
// # Keys
//
// Keys come from exactly one source, oldest first and newest last (the order
// of Flask 3.1's SECRET_KEY_FALLBACKS followed by SECRET_KEY):
//
//   - --key K, repeated;
//   - --key-file F: one key per line; blank lines are ignored, a trailing
//     "\r" is dropped, anything else on the line is part of the key;
//   - the SESHAT_KEYS environment variable, keys separated by newlines, used
//     when neither flag is given.
//
// Prefer the file or the environment: arguments are visible to other users
// in the process list. seshat never prints a key. Giving both --key and
// --key-file is a usage error. Keys are bytes of any length: seshat's
// minimum key length for new deployments is not applied here, so a short
// Flask SECRET_KEY works.
//
// # Exit status
//
// 0 on success (and for help), 1 when the value or payload is bad, 2 for a
// usage error (unknown command or flag, missing or unreadable keys, a bad
// number).
//
// More commands (seshat sessions list|revoke, for server-side stores) will
// join these as further subcommands.
package main
