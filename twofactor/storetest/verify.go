package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/twofactor"
)

// codeOnce enrols a user on s and has 20 goroutines verify one code at
// once, through a real twofactor.Manager: exactly one may succeed.
func codeOnce(t *testing.T, s twofactor.Store) {
	ctx := context.Background()
	now := time.Unix(1_800_000_015, 0)
	clock := func() time.Time { return now }
	load := func(context.Context, string) (login.User, error) { return nil, nil }
	lm, err := login.New(login.Config{LoadUser: load, Tokens: login.NewMemoryTokens(clock)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := twofactor.New(twofactor.Config{Issuer: "storetest", Store: s, Login: lm, LoadUser: load, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.Enroll(ctx, "u", "u")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := totp.GenerateCode(e.Secret, now.Add(-30*time.Second))
	if _, err := m.ConfirmEnrolment(ctx, "u", first); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, now)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := m.Verify(ctx, "u", code)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, twofactor.ErrReplayed):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("one code verified %d times by concurrent requests", ok.Load())
	}
}
