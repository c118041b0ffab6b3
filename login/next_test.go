package login

import (
	"net/url"
	"strings"
	"testing"
)

func TestDjangoIsSafeURLOpenRedirects(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		// RM-05's catalogue.
		{"//evil", false},
		{"///evil", false},
		{"/\\evil", false},
		{"\\\\evil", false},
		{"https:evil", false},
		{"http://ok@evil", false},
		{"javascript:x", false},
		{" /x", false},
		{"\t/x", false},
		{"\x01/x", false},
		{"%2F%2Fevil", false},
		{"/%09/evil", false},
		{"/a?b#c", true},
		// More encoded and control variants.
		{"/%2F/evil", false},
		{"/%2f/evil", false},
		{"/%5Cevil", false},
		{"/%5cevil", false},
		{"/%252F/evil", false},
		{"/%25252F/evil", false},
		{"/%2525252F%2525252Fevil", false},
		{"/%25252525252541", false}, // nested deeper than SafeNext decodes
		{"/a\r\nSet-Cookie: x=1", false},
		{"/a%0d%0aSet-Cookie:x", false},
		{"/a\x00", false},
		{"/a\x7f", false},
		{"/caf\xc3\xa9", false},
		{"/a b", false},
		{"/../x", false},
		{"/a/%2e%2e/x", false},
		{"/./x", false},
		{"/%", false},
		{"/%zz", false},
		{"", false},
		{"evil.com", false},
		{"http://evil.com", false},
		{"HTTPS://evil.com/", false},
		{"data:text/html,x", false},
		{"/" + strings.Repeat("a", maxNextLen), false},
		{"/\t/evil", false},
		{"/\n/evil", false},
		// Accepted same-site paths.
		{"/", true},
		{"/a", true},
		{"/a/b/c?x=1&y=2", true},
		{"/a?next=//evil", true}, // the query is data, not a location
		{"/a#frag", true},
		{"/a%20b", true},
		{"/a:b", true},
		{"/private?tab=2&x=a%20b", true},
		{"/a/..b", true},
	}
	for _, c := range cases {
		got, ok := SafeNext(c.in)
		if ok != c.ok {
			t.Errorf("SafeNext(%q) = %q, %v; want ok=%v", c.in, got, ok, c.ok)
			continue
		}
		if ok && got != c.in {
			t.Errorf("SafeNext(%q) = %q, want the input unchanged", c.in, got)
		}
		if !ok && got != "" {
			t.Errorf("SafeNext(%q) refused but returned %q", c.in, got)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/a?b#c", "//evil", "/%2F/x", "/\\x", "/a/b", "https:x", "/%252F", "/a?x=%0a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, ok := SafeNext(raw)
		if !ok {
			if out != "" {
				t.Fatalf("refused %q but returned %q", raw, out)
			}
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("accepted %q does not parse: %v", out, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			t.Fatalf("accepted %q has scheme %q host %q user %v opaque %q", out, u.Scheme, u.Host, u.User, u.Opaque)
		}
		if strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") {
			t.Fatalf("accepted %q starts with // or /\\", out)
		}
		// Resolved against a base, it must stay on the base's origin.
		base, _ := url.Parse("https://site.example/x/y")
		if r := base.ResolveReference(u); r.Host != "site.example" || r.Scheme != "https" || r.User != nil {
			t.Fatalf("accepted %q resolves to %v", out, r)
		}
	})
}
