package csrf

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// maskPrefix marks a masked token. Flask-WTF tokens never start with it
// (they are base64url or '.'), so both forms can be accepted side by side.
const maskPrefix = "~"

// mask hides token under a fresh random pad: "~" + base64url(pad ||
// pad XOR token). Every request then renders different bytes for the same
// token, so a compression side channel on the response body (BREACH)
// cannot recover it across requests.
func (p *Protector) mask(token string) (string, error) {
	n := len(token)
	b := make([]byte, 2*n)
	if _, err := io.ReadFull(p.rand, b[:n]); err != nil {
		return "", fmt.Errorf("csrf: random source: %w", err)
	}
	for i := range n {
		b[n+i] = b[i] ^ token[i]
	}
	return maskPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// unmask returns the token inside a masked one; a token without the prefix
// is returned as it is (a form rendered by Flask-WTF). A malformed masked
// token gives a value that never verifies.
func unmask(t string) string {
	rest, ok := strings.CutPrefix(t, maskPrefix)
	if !ok {
		return t
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return "\x00" // fails signature verification
	}
	n := len(b) / 2
	out := make([]byte, n)
	for i := range n {
		out[i] = b[i] ^ b[n+i]
	}
	return string(out)
}
