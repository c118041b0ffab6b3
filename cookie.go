package seshat

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// maxCandidates bounds how many cookies with our name one request may make us
// verify: a sibling subdomain can plant extra ones (cookie tossing), and each
// costs an HMAC.
const maxCandidates = 8

// maxValueLen is the longest cookie value seshat looks at; a browser never
// stores a longer one, so anything longer is forged and skipped before any
// base64 or HMAC work.
const maxValueLen = 4096

// cookieValues returns the values of every cookie named name in the Cookie
// header lines, in order, skipping oversized ones. Unlike r.Cookie it does not
// stop at the first match (which an attacker may have planted) and it does no
// allocation besides the result; a header with thousands of other cookies
// costs one linear scan.
func cookieValues(lines []string, name string, dst []string) []string {
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.Trim(part, " \t")
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if len(v) > maxValueLen {
				continue
			}
			dst = append(dst, v)
			if len(dst) == maxCandidates {
				return dst
			}
		}
	}
	return dst
}

// cookieHeader builds a Set-Cookie value with Werkzeug's attribute order, so
// seshat's headers are byte-identical to Flask's for the same configuration:
// name=value; Domain; Expires; Max-Age; Secure; HttpOnly; Path; SameSite;
// Partitioned. A zero expires sends no Expires; del sends the deletion form.
func (s *settings) cookieHeader(value string, expires time.Time, del, secure bool) string {
	var buf [256]byte
	b := append(s.appendCookieName(buf[:0]), value...)
	return string(s.appendCookieAttrs(b, expires, del, secure))
}

// appendCookieName appends "name=", the start of the Set-Cookie value; the
// cookie save path appends the encoded session right after it, so the whole
// header is built in one buffer and copied once.
func (s *settings) appendCookieName(b []byte) []byte {
	return append(append(b, s.name...), '=')
}

// appendCookieAttrs appends the attributes that follow the value.
func (s *settings) appendCookieAttrs(b []byte, expires time.Time, del, secure bool) []byte {
	if s.Cookie.Domain != "" {
		b = append(b, "; Domain="...)
		b = append(b, s.Cookie.Domain...)
	}
	if del {
		b = append(b, "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"...)
	} else if !expires.IsZero() {
		b = append(b, "; Expires="...)
		b = s.expires.append(b, expires)
	}
	if secure {
		b = append(b, "; Secure"...)
	}
	if !s.Cookie.DisableHTTPOnly {
		b = append(b, "; HttpOnly"...)
	}
	b = append(b, "; Path="...)
	b = append(b, s.path...)
	switch s.sameSite {
	case http.SameSiteLaxMode:
		b = append(b, "; SameSite=Lax"...)
	case http.SameSiteStrictMode:
		b = append(b, "; SameSite=Strict"...)
	case http.SameSiteNoneMode:
		b = append(b, "; SameSite=None"...)
	}
	if s.Cookie.Partitioned {
		b = append(b, "; Partitioned"...)
	}
	return b
}

// expiresCache keeps the last Expires date formatted: every permanent
// session saved within the same second carries the same one.
type expiresCache struct{ last atomic.Pointer[expiresText] }

type expiresText struct {
	unix int64
	text string
}

func (c *expiresCache) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if e := c.last.Load(); e != nil && e.unix == sec {
		return append(b, e.text...)
	}
	start := len(b)
	b = t.UTC().AppendFormat(b, http.TimeFormat)
	c.last.Store(&expiresText{unix: sec, text: string(b[start:])})
	return b
}

// secure reports whether the cookie gets the Secure attribute for a request.
func (s *settings) secure(tls bool) bool {
	switch s.Cookie.Secure {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	return tls
}

// headerSlots back the header values one save adds ("Set-Cookie", "Vary",
// "Cache-Control"), so that the middleware adds them without allocating:
// each Session carries one set. A slot is used at most once (a used slot is
// non-empty), and the slices handed out have capacity 1, so a handler that
// appends to one gets a copy.
type headerSlots [3]string

const (
	slotSetCookie = iota
	slotVary
	slotCacheControl
)

// one returns a one-element slice holding v, in slot i when it is free.
func (hs *headerSlots) one(i int, v string) []string {
	if hs == nil || hs[i] != "" {
		return []string{v}
	}
	hs[i] = v
	return hs[i : i+1 : i+1]
}

// setCookie adds a session Set-Cookie header (hdr from cookieHeader) with
// what every such response needs: "Vary: Cookie" and, unless the handler
// chose one, "Cache-Control: private".
func setCookie(h http.Header, hdr string, hs *headerSlots) {
	if lines := h["Set-Cookie"]; len(lines) > 0 {
		h["Set-Cookie"] = append(lines, hdr)
	} else {
		h["Set-Cookie"] = hs.one(slotSetCookie, hdr)
	}
	addVary(h, "Cookie", hs)
	addPrivate(h, hs)
}

// addVary adds value to the Vary header unless it is already listed,
// keeping what the handler set. Like Werkzeug, it extends the existing line
// ("Accept-Encoding, Cookie") rather than adding a second one.
func addVary(h http.Header, value string, hs *headerSlots) {
	lines := h["Vary"]
	for _, line := range lines {
		for f := range strings.SplitSeq(line, ",") {
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, value) {
				return
			}
		}
	}
	if n := len(lines); n > 0 && strings.TrimSpace(lines[n-1]) != "" {
		lines[n-1] += ", " + value
		return
	}
	h["Vary"] = hs.one(slotVary, value)
}

// addPrivate keeps shared caches from storing a response that carries a
// session cookie (Flask CVE-2023-30861): it sets "Cache-Control: private"
// unless the handler chose a Cache-Control itself.
func addPrivate(h http.Header, hs *headerSlots) {
	if _, ok := h["Cache-Control"]; !ok {
		h["Cache-Control"] = hs.one(slotCacheControl, "private")
	}
}

var zeroTime time.Time
