package login

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzRememberParsers feeds arbitrary cookie values to every remember
// token parser: none may panic or accept a value it did not issue.
func FuzzRememberParsers(f *testing.F) {
	m := &Manager{cfg: Config{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }, TokenGrace: time.Second}}
	signed := &signedTokens{m: m, keys: [][]byte{rememberKey}}
	stored := &storeTokens{m: m, store: NewMemoryTokens(m.cfg.Now)}
	ctx := context.Background()
	good, _ := signed.issue(ctx, "42", m.cfg.Now().Add(time.Hour))
	goodStored, _ := stored.issue(ctx, "42", m.cfg.Now().Add(time.Hour))
	for _, s := range []string{good, goodStored, FlaskRememberValue(rememberKey, "42"), "", "|", "s1....", "a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if id, ok := ParseFlaskRemember(rememberKey, v); ok && v != FlaskRememberValue(rememberKey, id) {
			t.Fatalf("Flask parser accepted %q", v)
		}
		if id, _, _, err := signed.use(ctx, v); err == nil && (v != good || id != "42") {
			t.Fatalf("signed parser accepted %q as %q", v, id)
		}
		if sel, _, ok := splitToken(v); ok && strings.Contains(sel, ":") {
			t.Fatalf("selector %q holds a colon", sel)
		}
		if v != goodStored {
			if _, _, _, err := stored.use(ctx, v); err == nil {
				t.Fatalf("store parser accepted %q", v)
			}
		}
	})
}
