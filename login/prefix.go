package login

import (
	"fmt"
	"strings"

	"github.com/seshat-go/seshat"
)

// checkPrefix applies the cookie-prefix rules of RFC 6265bis to the
// remember cookie, as seshat.New does to the session cookie (CK-04): a
// __Host- name needs Secure: SecureAlways, Path "/" and no Domain; a
// __Secure- name needs SecureAlways. Browsers refuse such cookies
// otherwise, so the mistake would silently disable remember-me.
func checkPrefix(c *CookieOptions) error {
	lower := strings.ToLower(c.Name)
	switch {
	case strings.HasPrefix(lower, "__host-"):
		if c.Secure != seshat.SecureAlways || c.Domain != "" || c.Path != "/" {
			return fmt.Errorf("%w: a __Host- remember cookie needs Secure: SecureAlways, Path \"/\" and no Domain", ErrConfig)
		}
	case strings.HasPrefix(lower, "__secure-"):
		if c.Secure != seshat.SecureAlways {
			return fmt.Errorf("%w: a __Secure- remember cookie needs Secure: SecureAlways", ErrConfig)
		}
	}
	return nil
}

// prefixed reports whether a cookie name carries a security prefix.
func prefixed(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "__host-") || strings.HasPrefix(lower, "__secure-")
}
