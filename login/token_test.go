package login

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
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

// FuzzTokenRecord feeds arbitrary stored fields to the decoder of remember
// tokens kept in a session store (SessionStoreTokens.Get): a token or an
// error, never a panic, and what it accepts has a full-length hash and the
// stored owner.
func FuzzTokenRecord(f *testing.F) {
	h := `"` + strings.Repeat("ab", 32) + `"`
	f.Add(h, "", "1700000000000000000", "remember:42")
	f.Add(h, h, "0", "remember:42")
	f.Add(`"zz"`, `null`, `1e999`, "remember:")
	f.Add(`{" b":"AAAA"}`, `[1]`, `"x"`, "42")
	f.Add(h, `{" t":["a"]}`, `-1`, "remember:7")
	now := time.Unix(1_800_000_000, 0)
	st := memstore.New(memstore.Options{SweepInterval: -1, Now: func() time.Time { return now }})
	defer st.Close()
	tokens := SessionStoreTokens(st)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, hash, prev, rotated, owner string) {
		vals := map[string][]byte{"h": []byte(hash), "r": []byte(rotated)}
		if prev != "" {
			vals["p"] = []byte(prev)
		}
		rec := &seshat.Record{Values: vals, Expires: now.Add(time.Hour), UserID: owner}
		if err := st.Save(ctx, tokenKey("sel"), rec); err != nil {
			t.Fatal(err)
		}
		tok, err := tokens.Get(ctx, "sel")
		if err != nil {
			if !errors.Is(err, seshat.ErrCorruptRecord) && !errors.Is(err, ErrTokenNotFound) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(tok.Hash) != sha256.Size || RememberOwnerPrefix+tok.UserID != owner {
			t.Fatalf("accepted token: hash %d bytes, owner %q from %q", len(tok.Hash), tok.UserID, owner)
		}
	})
}
