package seshat

import (
	"net/http"

	"strings"
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
// Partitioned. A zero expires sends no Expires; maxAgeZero sends the deletion
// form.
func (s *settings) cookieHeader(value string, expires time.Time, del, secure bool) string {
	var b strings.Builder
	b.Grow(len(s.name) + len(value) + 128)
	b.WriteString(s.name)
	b.WriteByte('=')
	b.WriteString(value)
	if s.Cookie.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(s.Cookie.Domain)
	}
	if del {
		b.WriteString("; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0")
	} else if !expires.IsZero() {
		b.WriteString("; Expires=")
		var buf [len(http.TimeFormat)]byte
		b.Write(expires.UTC().AppendFormat(buf[:0], http.TimeFormat))
	}
	if secure {
		b.WriteString("; Secure")
	}
	if !s.Cookie.DisableHTTPOnly {
		b.WriteString("; HttpOnly")
	}
	b.WriteString("; Path=")
	b.WriteString(s.path)
	switch s.sameSite {
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	}
	if s.Cookie.Partitioned {
		b.WriteString("; Partitioned")
	}
	return b.String()
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

// setCookie adds a session Set-Cookie header (hdr from cookieHeader) with
// what every such response needs: "Vary: Cookie" and, unless the handler
// chose one, "Cache-Control: private".
func setCookie(h http.Header, hdr string) {
	h.Add("Set-Cookie", hdr)
	addVary(h, "Cookie")
	addPrivate(h)
}

// addVary adds value to the Vary header unless it is already listed,
// keeping what the handler set. Like Werkzeug, it extends the existing line
// ("Accept-Encoding, Cookie") rather than adding a second one.
func addVary(h http.Header, value string) {
	lines := h["Vary"]
	for _, line := range lines {
		for _, f := range strings.Split(line, ",") {
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
	h.Set("Vary", value)
}

var zeroTime time.Time
