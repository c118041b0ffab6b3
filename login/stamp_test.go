package login

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seshat-go/seshat/memstore"
)

// accounts is a user table whose ids can be reused: deleting an account
// and creating another with the same id gives the new one a new stamp, as
// a uniquifier column would.
type accounts struct {
	mu     sync.Mutex
	stamps map[string]string
	next   int
}

func newAccounts(ids ...string) *accounts {
	a := &accounts{stamps: map[string]string{}}
	for _, id := range ids {
		a.create(id)
	}
	return a
}

func (a *accounts) create(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	a.stamps[id] = "uniquifier-" + strconv.Itoa(a.next)
}

func (a *accounts) remove(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.stamps, id)
}

func (a *accounts) load(_ context.Context, id string) (User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.stamps[id]; !ok {
		return nil, nil
	}
	return testUser(id), nil
}

func (a *accounts) stamp(_ context.Context, id string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stamps[id], nil // "" for an account that does not exist
}

// tokenStores are the two TokenStores the package ships: a stamp must
// survive both.
func tokenStores(t *testing.T) map[string]func() TokenStore {
	return map[string]func() TokenStore{
		"MemoryTokens": func() TokenStore { return NewMemoryTokens(nil) },
		"SessionStoreTokens": func() TokenStore {
			ms := memstore.New(memstore.Options{})
			t.Cleanup(func() { ms.Close() })
			return SessionStoreTokens(ms)
		},
	}
}

// RM-01: delete user 5, create a new user 5; the old account's remember
// cookie must not log the new account in, and is retired.
func TestRM01_UserIDReuse(t *testing.T) {
	for name, mk := range tokenStores(t) {
		t.Run(name, func(t *testing.T) {
			store, users := mk(), newAccounts("5")
			a := newApp(t, Config{Tokens: store, LoadUser: users.load, UserStamp: users.stamp}, false)
			j := jar{}
			a.get(t, j, "/login/5?remember=1", uaA)
			// A second browser holding only the remember cookie logs in
			// with it; the cookie rotates and that browser keeps the new one.
			b := jar{"remember_token": j["remember_token"]}
			if r := a.get(t, b, "/whoami", uaA); r.body != "5 fresh=false" {
				t.Fatalf("the account's own token: %q", r.body)
			}
			old := jar{"remember_token": b["remember_token"]}
			sel, _, _ := strings.Cut(old["remember_token"], ":")
			if old["remember_token"] == j["remember_token"] || sel == "" {
				t.Fatalf("the remember cookie did not rotate: %q", old["remember_token"])
			}

			users.remove("5")
			users.create("5") // a new account gets the freed id

			r := a.get(t, old, "/whoami", uaA)
			if r.body != "anonymous" {
				t.Fatalf("the deleted account's remember cookie logged in the new account 5: %q", r.body)
			}
			if !strings.Contains(r.setCookie("remember_token"), "Max-Age=0") {
				t.Fatalf("the refused cookie is not cleared: %q", r.cookies)
			}
			if _, err := store.Get(context.Background(), sel); !errors.Is(err, ErrTokenNotFound) {
				t.Fatalf("the former account's token is still stored: %v", err)
			}
			// The new account's own remember cookie works, and keeps
			// working after it rotates (the stamp moves with it).
			n := jar{}
			a.get(t, n, "/login/5?remember=1", uaB)
			c := jar{"remember_token": n["remember_token"]}
			for i := range 2 {
				if r := a.get(t, jar{"remember_token": c["remember_token"]}, "/whoami", uaB); r.body != "5 fresh=false" {
					t.Fatalf("the new account's token, use %d: %q", i+1, r.body)
				} else if v := r.setCookie("remember_token"); v != "" {
					c["remember_token"], _, _ = strings.Cut(strings.TrimPrefix(v, "remember_token="), ";")
				}
			}
		})
	}
}

// A rotated-out validator of the former account, replayed after the new
// account logged in with remember me, is not a theft of the new account:
// its tokens stay.
func TestRM01_FormerAccountReplayIsNoTheft(t *testing.T) {
	for name, mk := range tokenStores(t) {
		t.Run(name, func(t *testing.T) {
			store, users := mk(), newAccounts("5")
			thefts := 0
			a := newApp(t, Config{Tokens: store, LoadUser: users.load, UserStamp: users.stamp,
				OnTheft: func(context.Context, string) { thefts++ }}, false)
			j := jar{}
			a.get(t, j, "/login/5?remember=1", uaA)
			first := j["remember_token"]
			if r := a.get(t, jar{"remember_token": first}, "/whoami", uaA); r.body != "5 fresh=false" {
				t.Fatalf("first use: %q", r.body)
			}
			a.clock.Add(time.Minute) // past TokenGrace: first is now rotated out

			users.remove("5")
			users.create("5")
			n := jar{}
			a.get(t, n, "/login/5?remember=1", uaB)
			mine := n["remember_token"]

			if r := a.get(t, jar{"remember_token": first}, "/whoami", uaA); r.body != "anonymous" {
				t.Fatalf("replayed former token: %q", r.body)
			}
			if thefts != 0 {
				t.Fatalf("the former account's token was taken for a theft (%d): the new account's tokens were revoked", thefts)
			}
			if r := a.get(t, jar{"remember_token": mine}, "/whoami", uaB); r.body != "5 fresh=false" {
				t.Fatalf("the new account's token after the replay: %q", r.body)
			}
		})
	}
}

// Replacing a user's stamp revokes every remember token of that user, and
// tokens issued before UserStamp was configured carry no stamp and are
// refused.
func TestUserStampChangeRevokes(t *testing.T) {
	for name, mk := range tokenStores(t) {
		t.Run(name, func(t *testing.T) {
			store, users := mk(), newAccounts("42")
			plain := newApp(t, Config{Tokens: store, LoadUser: users.load}, false)
			j := jar{}
			plain.get(t, j, "/login/42?remember=1", uaA)
			unstamped := j["remember_token"]

			a := newApp(t, Config{Tokens: store, LoadUser: users.load, UserStamp: users.stamp}, false)
			if r := a.get(t, jar{"remember_token": unstamped}, "/whoami", uaA); r.body != "anonymous" {
				t.Fatalf("a token without a stamp: %q", r.body)
			}
			j = jar{}
			a.get(t, j, "/login/42?remember=1", uaA)
			j2 := jar{}
			a.get(t, j2, "/login/42?remember=1", uaB)
			if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body != "42 fresh=false" {
				t.Fatalf("stamped token: %q", r.body)
			}
			users.create("42") // a new uniquifier: "log out everywhere"
			for _, c := range []string{j["remember_token"], j2["remember_token"]} {
				if r := a.get(t, jar{"remember_token": c}, "/whoami", uaA); r.body != "anonymous" {
					t.Fatalf("token after the stamp changed: %q", r.body)
				}
			}
		})
	}
}

func TestUserStampError(t *testing.T) {
	users := newAccounts("42")
	fail := false
	stamp := func(ctx context.Context, id string) (string, error) {
		if fail {
			return "", errors.New("users table unreachable")
		}
		return users.stamp(ctx, id)
	}
	a := newApp(t, Config{Tokens: NewMemoryTokens(nil), LoadUser: users.load, UserStamp: stamp}, false)
	j := jar{}
	a.get(t, j, "/login/42?remember=1", uaA)
	fail = true
	if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body == "42 fresh=false" {
		t.Fatalf("a remember login went through while UserStamp failed: %q", r.body)
	}
	fail = false
	if r := a.get(t, jar{"remember_token": j["remember_token"]}, "/whoami", uaA); r.body != "42 fresh=false" {
		t.Fatalf("the token after UserStamp recovered: %q", r.body)
	}
}

func TestUserStampNeedsTokens(t *testing.T) {
	stamp := func(context.Context, string) (string, error) { return "x", nil }
	for name, cfg := range map[string]Config{
		"Keys":  {LoadUser: loadVectorUser, Keys: [][]byte{rememberKey}, UserStamp: stamp},
		"Flask": {LoadUser: loadVectorUser, Remember: RememberFlask, FlaskRememberKey: []byte("k"), UserStamp: stamp},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
}

// With signed tokens, Generation is the account stamp: an application that
// returns a per-account value (here, a creation counter) refuses the
// former account's cookie after the id is reused.
func TestRM01_SignedTokensGenerationAsStamp(t *testing.T) {
	users := newAccounts("5")
	gen := func(_ context.Context, id string) (uint64, error) {
		users.mu.Lock()
		defer users.mu.Unlock()
		s, _ := strings.CutPrefix(users.stamps[id], "uniquifier-")
		n, _ := strconv.ParseUint(s, 10, 64)
		return n, nil
	}
	a := newApp(t, Config{Keys: [][]byte{rememberKey}, LoadUser: users.load, Generation: gen}, false)
	j := jar{}
	a.get(t, j, "/login/5?remember=1", uaA)
	tok := j["remember_token"]
	if r := a.get(t, jar{"remember_token": tok}, "/whoami", uaA); r.body != "5 fresh=false" {
		t.Fatalf("signed token: %q", r.body)
	}
	users.remove("5")
	users.create("5")
	if r := a.get(t, jar{"remember_token": tok}, "/whoami", uaA); r.body != "anonymous" {
		t.Fatalf("the former account's signed token logged in the new account 5: %q", r.body)
	}
}
