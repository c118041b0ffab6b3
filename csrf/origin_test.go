package csrf_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/seshat-go/seshat/csrf"
)

// Regression tests for the 2025 flaws of Go CSRF libraries (gorilla/csrf
// CVE-2025-24358 and CVE-2025-47909, nosurf CVE-2025-46721): every request
// goes through a real httptest server, so r.URL.Scheme and r.URL.Host are
// empty as in production and the scheme can only come from r.TLS. Every
// refused request below carries a valid token for its session: only the
// origin or referrer check can stop it.

func TestCrossOriginOverPlainHTTP(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tok := a.token(t, "")
	ok := map[string]string{"X-CSRFToken": tok}
	expect(t, a.do(t, call{path: "/x", headers: ok}), "")
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Origin": "https://evil.example"},
		{"Origin": "null"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "same-site", "Origin": "http://sub.127.0.0.1"},
	} {
		h["X-CSRFToken"] = tok
		expect(t, a.do(t, call{path: "/x", headers: h}), "ErrBadOrigin")
	}
	// Same origin, or a navigation the user started, passes.
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": tok, "Sec-Fetch-Site": "same-origin"}}), "")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": tok, "Sec-Fetch-Site": "none"}}), "")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": tok, "Origin": a.srv.URL}}), "")
	// A safe method passes whatever its origin.
	expect(t, a.do(t, call{method: http.MethodGet, path: "/x", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}), "")
}

// The Sec-Fetch-Site and Origin table of Go's
// TestCrossOriginProtectionSecFetchSite and ...OriginHeader, through seshat.
func TestSecFetchSiteTable(t *testing.T) {
	a := newApp(t, true, csrf.Options{})
	host := "example.com"
	tok := a.token(t, host)
	for _, c := range []struct {
		method, site, origin string
		ok                   bool
	}{
		{"POST", "same-origin", "", true},
		{"POST", "none", "", true},
		{"POST", "cross-site", "", false},
		{"POST", "same-site", "", false},
		{"POST", "", "", true},
		{"POST", "", "https://example.com", true},
		{"POST", "", "https://attacker.example", false},
		{"POST", "", "null", false},
		{"POST", "", "https://example.com.attacker.com", false},
		{"POST", "", "https://attacker.com/example.com", false},
		{"GET", "cross-site", "https://attacker.example", true},
		{"HEAD", "cross-site", "", true},
		{"OPTIONS", "cross-site", "", true},
		{"PUT", "cross-site", "", false},
		{"DELETE", "same-site", "", false},
	} {
		h := map[string]string{"X-CSRFToken": tok, "Referer": "https://example.com/form"}
		if c.site != "" {
			h["Sec-Fetch-Site"] = c.site
		}
		if c.origin != "" {
			h["Origin"] = c.origin
		}
		got := a.do(t, call{method: c.method, path: "/x", host: host, headers: h})
		if (got.status == 200) != c.ok || (!c.ok && got.reason != "ErrBadOrigin") {
			t.Errorf("%s Sec-Fetch-Site=%q Origin=%q: %d %s, want ok=%v", c.method, c.site, c.origin, got.status, got.reason, c.ok)
		}
	}
}

func TestPrefixOrigin(t *testing.T) {
	a := newApp(t, true, csrf.Options{TrustedOrigins: []string{"https://example.com"}})
	tok := a.token(t, "example.com")
	for _, site := range []string{"", "cross-site", "same-site"} {
		h := map[string]string{"X-CSRFToken": tok, "Referer": "https://example.com/", "Origin": "https://example.com.attacker.com"}
		if site != "" {
			h["Sec-Fetch-Site"] = site
		}
		expect(t, a.do(t, call{path: "/x", host: "example.com", headers: h}), "ErrBadOrigin")
	}
}

// CVE-2025-47909: a trusted origin is a whole origin, scheme included.
func TestCVE_2025_47909_TrustedOriginScheme(t *testing.T) {
	a := newApp(t, false, csrf.Options{TrustedOrigins: []string{"https://a.example"}})
	tok := a.token(t, "")
	for _, site := range []string{"cross-site", ""} {
		h := map[string]string{"X-CSRFToken": tok, "Origin": "http://a.example"}
		if site != "" {
			h["Sec-Fetch-Site"] = site
		}
		expect(t, a.do(t, call{path: "/x", headers: h}), "ErrBadOrigin")
		h["Origin"] = "https://a.example"
		expect(t, a.do(t, call{path: "/x", headers: h}), "")
		h["Origin"] = "https://a.example:8443"
		expect(t, a.do(t, call{path: "/x", headers: h}), "ErrBadOrigin")
	}
	// A trusted origin passes the origin check only, never the token check.
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://a.example"}}), "ErrTokenMissing")
}

// CVE-2025-24358 / CVE-2025-46721: over TLS, with no Origin, a Referer from
// a subdomain (or from http://) is refused; the scheme is known from r.TLS.
func TestCVE_2025_24358_SubdomainReferrerOverTLS(t *testing.T) {
	a := newApp(t, true, csrf.Options{})
	tok := a.token(t, "example.com")
	for _, ref := range []string{"http://sub.example.com/", "https://sub.example.com/", "http://example.com/", "https://example.com:8443/", "https://example.com.attacker.com/", "//example.com/", "https://example.com:notaport/", "ftp://example.com/"} {
		expect(t, a.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok, "Referer": ref}}), "ErrReferrerMismatch")
	}
	expect(t, a.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok}}), "ErrReferrerMissing")
	expect(t, a.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok, "Referer": "https://EXAMPLE.com/page?q=1"}}), "")
	// An http:// page of the same host is another origin over TLS, although
	// CrossOriginProtection compares hosts only.
	expect(t, a.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok, "Referer": "https://example.com/", "Origin": "http://example.com"}}), "ErrBadOrigin")
	expect(t, a.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok, "Referer": "https://example.com/", "Origin": "https://example.com"}}), "")
	// Flask-WTF's WTF_CSRF_SSL_STRICT = False.
	b := newApp(t, true, csrf.Options{NoStrictReferrer: true})
	tok = b.token(t, "example.com")
	expect(t, b.do(t, call{path: "/x", host: "example.com", headers: map[string]string{"X-CSRFToken": tok}}), "")
}

// The scheme comes from r.TLS, or from X-Forwarded-Proto only when the
// application says a proxy sets it.
func TestForwardedProto(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	tok := a.token(t, "")
	expect(t, a.do(t, call{path: "/x", headers: map[string]string{"X-CSRFToken": tok, "X-Forwarded-Proto": "https"}}), "")
	b := newApp(t, false, csrf.Options{TrustForwardedProto: true})
	tok = b.token(t, "example.com")
	h := map[string]string{"X-CSRFToken": tok, "X-Forwarded-Proto": "https"}
	expect(t, b.do(t, call{path: "/x", host: "example.com", headers: h}), "ErrReferrerMissing")
	h["Referer"] = "http://example.com/"
	expect(t, b.do(t, call{path: "/x", host: "example.com", headers: h}), "ErrReferrerMismatch")
	h["Referer"] = "https://example.com/"
	expect(t, b.do(t, call{path: "/x", host: "example.com", headers: h}), "")
}

// CS-10: the login form is protected before any session exists.
func TestLoginCSRF(t *testing.T) {
	a := newApp(t, false, csrf.Options{})
	expect(t, a.do(t, call{path: "/login", form: url.Values{"user": {"a"}}, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}), "ErrBadOrigin")
	expect(t, a.do(t, call{path: "/login", form: url.Values{"user": {"a"}}}), "ErrTokenMissing")
}
