package seshat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/seshat-go/seshat"
)

// Sessions that end after eight hours however active they are, and that
// logout revokes even in cookie mode: the application keeps a counter per
// user (here a map; in practice a column of the users table) and bumps it
// when the user logs out.
func Example_timeoutsAndRevocation() {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	generation := map[string]uint64{"alice": 1}
	sm, err := seshat.New(seshat.Config{
		Keys:            [][]byte{[]byte("an-example-key-of-32-bytes-or-more")},
		AbsoluteTimeout: 8 * time.Hour,
		IdleTimeout:     30 * time.Minute,
		Generation: func(_ context.Context, userID string) (uint64, error) {
			return generation[userID], nil
		},
		Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	// A login handler records the owner; the session then carries alice's
	// generation.
	login := sm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Renew()
		s.SetUserID("alice")
		s.Set("user", "alice")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	cookie := rec.Result().Cookies()[0]

	load := func() *seshat.Session {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(cookie)
		s, err := sm.Load(r.Context(), r)
		if err != nil {
			panic(err)
		}
		return s
	}
	fmt.Println("after login:", load().Len() > 0)

	generation["alice"]++ // logout: every copy of alice's cookie is now refused
	s := load()
	fmt.Println("after the bump:", s.Len(), errors.Is(s.LoadError(), seshat.ErrSessionRevoked))
	// Output:
	// after login: true
	// after the bump: 0 true
}
