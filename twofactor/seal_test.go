package twofactor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seshat-go/seshat/twofactor"
)

// TestSecretKeys: with SecretKeys the store never holds the secret in
// clear; key rotation works; a wrong key, or a sealed secret copied to
// another user, fails with ErrDecrypt; a clear secret from before keys
// were configured still works and gets sealed.
func TestSecretKeys(t *testing.T) {
	oldKey := []byte(strings.Repeat("o", 32))
	newKey := []byte(strings.Repeat("n", 32))
	f := newFixture(t, "/login")
	with := func(keys ...[]byte) *twofactor.Manager {
		m, err := twofactor.New(twofactor.Config{Issuer: "X", Store: f.store, Login: f.lm, LoadUser: loadUser, Now: f.clock.Now, SecretKeys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	f.tf = with(oldKey)
	secret, _ := f.enrol(t, "alice")
	stored := func(id string) string {
		st, _ := f.store.Get(ctx, id)
		return st.Secret
	}
	if s := stored("alice"); !strings.HasPrefix(s, "enc1:") || strings.Contains(strings.ToUpper(s), secret) {
		t.Fatalf("stored secret %q", s)
	}
	if _, err := f.tf.Verify(ctx, "alice", f.code(t, secret)); err != nil {
		t.Fatal(err)
	}
	// Rotation: [old, new] opens the old seal and reseals under new.
	before := stored("alice")
	f.clock.Add(30e9)
	if _, err := with(oldKey, newKey).Verify(ctx, "alice", f.code(t, secret)); err != nil {
		t.Fatal(err)
	}
	if stored("alice") == before {
		t.Fatal("not resealed under the new key")
	}
	f.clock.Add(30e9)
	if _, err := with(newKey).Verify(ctx, "alice", f.code(t, secret)); err != nil {
		t.Fatalf("new key alone after rotation: %v", err)
	}
	if _, err := with(oldKey).Verify(ctx, "alice", f.code(t, secret)); !errors.Is(err, twofactor.ErrDecrypt) {
		t.Fatalf("dropped key: %v", err)
	}
	if _, err := with().Verify(ctx, "alice", f.code(t, secret)); !errors.Is(err, twofactor.ErrDecrypt) {
		t.Fatalf("no keys, sealed secret: %v", err)
	}
	// Bob's row gets alice's sealed secret: it does not open for bob.
	sealed := stored("alice")
	_ = f.store.Update(ctx, "bob", func(st *twofactor.State) error { st.Secret = sealed; return nil })
	if _, err := with(newKey).Verify(ctx, "bob", f.code(t, secret)); !errors.Is(err, twofactor.ErrDecrypt) {
		t.Fatalf("copied row: %v", err)
	}
	// A secret stored in clear before keys existed works and is sealed.
	_ = f.store.Update(ctx, "bob", func(st *twofactor.State) error { st.Secret = secret; return nil })
	if _, err := with(newKey).Verify(ctx, "bob", f.code(t, secret)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored("bob"), "enc1:") {
		t.Fatal("clear secret not sealed on use")
	}
	if _, err := twofactor.New(twofactor.Config{Issuer: "X", Store: f.store, Login: f.lm, LoadUser: loadUser, SecretKeys: [][]byte{[]byte("short")}}); !errors.Is(err, twofactor.ErrConfig) {
		t.Fatalf("short key: %v", err)
	}
}
