package login

import (
	"net/url"
	"strings"
)

// maxNextLen bounds the length of a next URL SafeNext accepts.
const maxNextLen = 2048

// SafeNext checks a post-login redirect target (the "next" query parameter
// or form field) and returns it unchanged when it is a same-site relative
// path, or "", false otherwise. Flask-Login does not check next at all;
// redirecting to an unchecked value is an open redirect.
//
// Accepted: a path that starts with exactly one "/", optionally followed by
// a query and a fragment ("/a?b#c"). Refused: anything else, notably
// scheme-relative and backslash forms ("//evil", "///evil", "/\evil",
// "\\evil"), schemes ("https:evil", "javascript:x", "http://ok@evil"),
// leading or embedded spaces, tabs, CR, LF and other control characters,
// non-ASCII bytes, and percent-encoded variants whose decoding (repeated
// until stable) would be refused, such as "/%2F/evil", "/%5Cevil" and
// "/%09/evil". Dot segments ("/../x") are refused too, so no normalisation
// can turn an accepted path into a different origin. The rules err on the
// side of refusing: the caller then redirects to a default page.
func SafeNext(raw string) (string, bool) {
	if raw == "" || len(raw) > maxNextLen {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || c == '\\' {
			return "", false
		}
	}
	if raw[0] != '/' || (len(raw) > 1 && raw[1] == '/') {
		return "", false
	}
	path := raw
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	// Decode the path until it stops changing: each decoded form must
	// still be a plain absolute path.
	decoded := false
	for range 4 {
		if !plainPath(path, decoded) {
			return "", false
		}
		dec, err := url.PathUnescape(path)
		if err != nil {
			return "", false
		}
		if dec == path {
			break
		}
		path, decoded = dec, true
	}
	if !plainPath(path, true) || strings.Contains(path, "%") && mustDecodeAgain(path) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	return raw, true
}

// plainPath reports whether p (a path, percent-decoded when decoded is
// true) starts with exactly one slash and has no control character or
// backslash and no dot segment. A raw path must also be printable ASCII
// without spaces; a decoded one may hold spaces and UTF-8.
func plainPath(p string, decoded bool) bool {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < ' ' || c == 0x7f || c == '\\' || !decoded && (c == ' ' || c > 0x7f) {
			return false
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// mustDecodeAgain reports whether p still holds valid percent escapes after
// the decoding rounds SafeNext allows (an attacker nesting encodings).
func mustDecodeAgain(p string) bool {
	dec, err := url.PathUnescape(p)
	return err != nil || dec != p
}
