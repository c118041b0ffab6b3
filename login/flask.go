package login

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Identifier returns Flask-Login 0.6.2's session identifier (the "_id"
// session key) for r: the hex SHA-512 of "{A}|{U}", where A and U are the
// Python bytes reprs of the client address and of the User-Agent header
// ("None" when the header is absent).
//
// The address is r.RemoteAddr's host unless trustForwardedFor is true, when
// the first comma-separated item of X-Forwarded-For wins, as Flask-Login
// does unconditionally. Only trust X-Forwarded-For behind a proxy that
// overwrites it: a client can put anything there.
//
// Header bytes are taken as a WSGI server passes them to Flask: each byte is
// one Latin-1 character, which Flask-Login then encodes as UTF-8.
func Identifier(r *http.Request, trustForwardedFor bool) string {
	var addr []byte
	haveAddr := false
	if trustForwardedFor {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			first, _, _ := strings.Cut(strings.Join(v, ","), ",")
			addr, haveAddr = []byte(latin1ToUTF8(first)), true
		}
	}
	if !haveAddr && r.RemoteAddr != "" {
		host := r.RemoteAddr
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		addr, haveAddr = []byte(host), true
	}
	if haveAddr {
		addr = []byte(strings.Trim(string(addr), " \t\n\r\v\f"))
	}
	var b strings.Builder
	if haveAddr {
		b.WriteString(pyBytesRepr(addr))
	} else {
		b.WriteString("None")
	}
	b.WriteByte('|')
	if ua, ok := r.Header["User-Agent"]; ok && len(ua) > 0 {
		b.WriteString(pyBytesRepr([]byte(latin1ToUTF8(ua[0]))))
	} else {
		b.WriteString("None")
	}
	sum := sha512.Sum512([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// latin1ToUTF8 reads s's bytes as Latin-1 characters and returns their UTF-8
// encoding, as Python does with a WSGI header string.
func latin1ToUTF8(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// pyBytesRepr returns Python 3's repr() of a bytes object.
func pyBytesRepr(p []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		quote = '"'
	}
	const hexdig = "0123456789abcdef"
	var b strings.Builder
	b.WriteByte('b')
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < ' ' || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// ErrLatin1 is returned by [Latin1Key] for a secret that Python cannot
// encode as Latin-1 (Flask-Login would fail the same way).
var ErrLatin1 = errors.New("login: secret key has a character above U+00FF")

// Latin1Key returns the bytes Flask-Login 0.6.2 signs remember cookies with
// for a str SECRET_KEY: its Latin-1 encoding (not UTF-8, which Flask's
// session signer uses). Pass the result as Config.FlaskRememberKey. A
// bytes SECRET_KEY is used as it is.
func Latin1Key(secret string) ([]byte, error) {
	out := make([]byte, 0, len(secret))
	for _, r := range secret {
		if r > 0xff {
			return nil, ErrLatin1
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// FlaskRememberValue returns Flask-Login's remember cookie value for userID:
// "userID|hex(HMAC-SHA512(key, userID))".
func FlaskRememberValue(key []byte, userID string) string {
	return userID + "|" + flaskDigest(key, userID)
}

func flaskDigest(key []byte, payload string) string {
	mac := hmac.New(sha512.New, key)
	mac.Write([]byte(payload))
	return hex.EncodeToString(mac.Sum(nil))
}

// ParseFlaskRemember verifies a Flask-Login remember cookie value and
// returns the user id. Like Flask-Login it splits at the last "|" and
// compares the lowercase hex digest exactly (in constant time).
func ParseFlaskRemember(key []byte, value string) (string, bool) {
	i := strings.LastIndexByte(value, '|')
	if i < 0 {
		return "", false
	}
	id, digest := value[:i], value[i+1:]
	if !hmac.Equal([]byte(flaskDigest(key, id)), []byte(digest)) {
		return "", false
	}
	return id, true
}

// werkzeugCookieChars are the bytes Werkzeug 2.2 writes into a cookie value
// without quoting it.
const werkzeugCookieChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/=!#$%&'*+-.^_`|~:"

// errCookieValue is returned when a user id cannot be carried unquoted in
// a Flask remember cookie.
var errCookieValue = errors.New("login: user id has characters a Flask remember cookie would quote")

func checkCookieValue(v string) error {
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(werkzeugCookieChars, v[i]) < 0 {
			return fmt.Errorf("%w (byte %d)", errCookieValue, i)
		}
	}
	return nil
}

// werkzeugQuery encodes one query parameter as Werkzeug 2.2's url_encode
// does: unreserved characters and "$!'()*,;" stay, space becomes "+",
// everything else is percent-encoded (UTF-8, uppercase hex).
func werkzeugQuery(s string) string {
	const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~$!'()*,;"
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}
