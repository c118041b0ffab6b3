package main

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
)

// scsHandler serves the routes with alexedwards/scs v2 and store; its
// LoadAndSave middleware commits a modified session.
func scsHandler(store scs.Store) http.Handler {
	sm := scs.New()
	sm.Store = store
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { fail(w, err) }
	rt := routes{
		login: func(w http.ResponseWriter, r *http.Request) error {
			ctx := r.Context()
			sm.Put(ctx, "user_id", userID)
			sm.Put(ctx, "csrf_token", csrfToken)
			sm.Put(ctx, "theme", themeDark)
			sm.Put(ctx, "cart", cart)
			return nil
		},
		read: func(w http.ResponseWriter, r *http.Request) (values, error) {
			ctx := r.Context()
			var v values
			v.userID = sm.GetString(ctx, "user_id")
			v.csrf = sm.GetString(ctx, "csrf_token")
			v.theme = sm.GetString(ctx, "theme")
			v.cart, _ = sm.Get(ctx, "cart").([]int)
			return v, nil
		},
		write: func(w http.ResponseWriter, r *http.Request) error {
			ctx := r.Context()
			t := sm.GetString(ctx, "theme")
			if t == "" {
				return errNoSession
			}
			sm.Put(ctx, "theme", otherTheme(t))
			return nil
		},
	}
	return sm.LoadAndSave(rt.mux())
}

// newScsMemstore keeps sessions in scs's memstore with its default cleanup
// interval. Its StopCleanup is not called: it races with the cleanup
// goroutine's start (scs v2.9.0 sets the stop channel inside that
// goroutine), and the goroutine ends with the process anyway.
func newScsMemstore(context.Context, options) (http.Handler, func(), error) {
	store := scsmem.NewWithCleanupInterval(time.Minute)
	return scsHandler(store), nop, nil
}

func newScsRedis(ctx context.Context, o options) (http.Handler, func(), error) {
	c, err := redisClient(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	prefix := "scs-bench:" + o.tag + ":"
	store := goredisstore.NewWithPrefix(c, prefix)
	return scsHandler(store), func() { deleteKeys(c, prefix); c.Close() }, nil
}
