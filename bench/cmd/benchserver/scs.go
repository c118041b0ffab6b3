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

func newScsMemstore(context.Context, options) (http.Handler, func(), error) {
	store := scsmem.NewWithCleanupInterval(time.Minute)
	return scsHandler(store), store.StopCleanup, nil
}

const scsRedisPrefix = "scs-bench:"

func newScsRedis(ctx context.Context, o options) (http.Handler, func(), error) {
	c, err := redisClient(ctx, o.redisAddr)
	if err != nil {
		return nil, nil, err
	}
	deleteKeys(c, scsRedisPrefix)
	store := goredisstore.NewWithPrefix(c, scsRedisPrefix)
	return scsHandler(store), func() { deleteKeys(c, scsRedisPrefix); c.Close() }, nil
}
