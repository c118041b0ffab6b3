package twofactor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seshat-go/seshat/login"
)

// FuzzVerify: whatever a user types, Verify never panics, and it accepts
// the input only when it normalizes to the current window's code or to an
// unused recovery code.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_015, 0)
	lm, err := login.New(login.Config{LoadUser: func(context.Context, string) (login.User, error) { return nil, nil }, Keys: [][]byte{make32()}})
	if err != nil {
		f.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	for _, s := range []string{"123456", "12 34 56", "abcd-efgh-jkmn-pqrs", "ABCDEFGHJKMNPQRS", "", "\x00", strings.Repeat("1", 100), "１２３４５６"} {
		f.Add(s)
	}
	valid := map[string]bool{}
	for s := step(now) - 1; s <= step(now)+1; s++ {
		c, _ := codeAt(secret, s)
		valid[c] = true
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, code string) {
		st := NewMemoryStore()
		codes, hashes := newRecoveryCodes("u", 2)
		st.users["u"] = State{Secret: secret, Recovery: hashes}
		m, err := New(Config{Issuer: "X", Store: st, Login: lm, LoadUser: func(context.Context, string) (login.User, error) { return nil, nil }, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Verify(context.Background(), "u", code)
		if err != nil {
			if !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("Verify(%q): %v", code, err)
			}
			return
		}
		n := normalize(code)
		if !valid[n] && !slices.ContainsFunc(codes, func(c string) bool { return normalize(c) == n }) {
			t.Fatalf("Verify accepted %q", code)
		}
	})
}

func make32() []byte { return []byte("0123456789abcdef0123456789abcdef") }
