// Package storetest is the conformance suite for twofactor.Store
// implementations. An application's store (SQLite, PostgreSQL, Redis…)
// calls Run from its own test, on its real engine:
//
//	func TestTwoFactorStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) twofactor.Store {
//			return newSQLiteTFStore(t) // empty, cleaned up with t.Cleanup
//		})
//	}
//
// The suite checks the contract twofactor's guarantees rest on: Get of an
// unknown user is the zero State, Update saves every field, an error from
// fn saves nothing, users are independent, the stored state is not
// aliased, and Update is atomic per user: 40 concurrent increments all
// count and one TOTP code verified by 20 concurrent goroutines succeeds
// exactly once.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat/twofactor"
)

// Run runs the suite; open returns an empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) twofactor.Store) {
	ctx := context.Background()
	full := twofactor.State{
		Secret:        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		PendingSecret: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
		LastStep:      60_000_000,
		Recovery:      []string{"aa", "bb"},
		Failures:      3,
		LockedUntil:   time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	t.Run("UnknownUserIsZero", func(t *testing.T) {
		st, err := open(t).Get(ctx, "nobody")
		if err != nil || !reflect.DeepEqual(st, twofactor.State{}) {
			t.Fatalf("Get unknown: %+v, %v", st, err)
		}
	})
	t.Run("UpdateSavesEveryField", func(t *testing.T) {
		s := open(t)
		var seen twofactor.State
		if err := s.Update(ctx, "u", func(st *twofactor.State) error { seen = *st; *st = full; return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, twofactor.State{}) {
			t.Fatalf("Update of an unknown user saw %+v", seen)
		}
		got, err := s.Get(ctx, "u")
		if err != nil {
			t.Fatal(err)
		}
		if !equal(got, full) {
			t.Fatalf("saved %+v, got %+v", full, got)
		}
		if err := s.Update(ctx, "u", func(st *twofactor.State) error { seen = *st; return nil }); err != nil {
			t.Fatal(err)
		}
		if !equal(seen, full) {
			t.Fatalf("Update saw %+v", seen)
		}
	})
	t.Run("ErrorSavesNothing", func(t *testing.T) {
		s := open(t)
		_ = s.Update(ctx, "u", func(st *twofactor.State) error { st.Failures = 1; return nil })
		boom := errors.New("boom")
		err := s.Update(ctx, "u", func(st *twofactor.State) error { st.Failures = 9; st.Secret = "X"; return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		if got, _ := s.Get(ctx, "u"); got.Failures != 1 || got.Secret != "" {
			t.Fatalf("a failed Update saved %+v", got)
		}
	})
	t.Run("UsersAreIndependent", func(t *testing.T) {
		s := open(t)
		_ = s.Update(ctx, "a", func(st *twofactor.State) error { *st = full; return nil })
		if got, _ := s.Get(ctx, "b"); !reflect.DeepEqual(got, twofactor.State{}) {
			t.Fatalf("user b sees %+v", got)
		}
		_ = s.Update(ctx, "a", func(st *twofactor.State) error { *st = twofactor.State{}; return nil })
		if got, _ := s.Get(ctx, "a"); got.Enrolled() || got.Failures != 0 || len(got.Recovery) != 0 {
			t.Fatalf("zeroed user reads %+v", got)
		}
	})
	t.Run("NoAliasing", func(t *testing.T) {
		s := open(t)
		_ = s.Update(ctx, "u", func(st *twofactor.State) error { *st = full; st.Recovery = []string{"aa", "bb"}; return nil })
		got, _ := s.Get(ctx, "u")
		got.Recovery[0] = "zz"
		if again, _ := s.Get(ctx, "u"); again.Recovery[0] != "aa" {
			t.Fatal("changing a State returned by Get changed the store")
		}
	})
	t.Run("UpdateIsAtomic", func(t *testing.T) {
		s := open(t)
		const n = 40
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				err := s.Update(ctx, "u", func(st *twofactor.State) error {
					st.Failures++
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, _ := s.Get(ctx, "u"); got.Failures != n {
			t.Fatalf("%d concurrent increments left Failures = %d: Update is not atomic", n, got.Failures)
		}
	})
	t.Run("CodeUsedOnce", func(t *testing.T) { codeOnce(t, open(t)) })
}

// equal compares States, the time by instant (a store may return another
// location).
func equal(a, b twofactor.State) bool {
	if !a.LockedUntil.Equal(b.LockedUntil) {
		return false
	}
	a.LockedUntil, b.LockedUntil = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
