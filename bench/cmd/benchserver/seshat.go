package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/pgstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sqlitestore"
)

// seshatHandler serves the routes on seshat's request-scoped session; the
// Manager's middleware saves it.
func seshatHandler(store seshat.Store) (http.Handler, error) {
	m, err := seshat.New(seshat.Config{Keys: [][]byte{signKey}, Store: store})
	if err != nil {
		return nil, err
	}
	rt := routes{
		login: func(w http.ResponseWriter, r *http.Request) error {
			s := seshat.FromContext(r.Context())
			for _, kv := range []struct {
				k string
				v any
			}{{"user_id", userID}, {"csrf_token", csrfToken}, {"theme", themeDark}, {"cart", cart}} {
				if err := s.Set(kv.k, kv.v); err != nil {
					return err
				}
			}
			return nil
		},
		read: func(w http.ResponseWriter, r *http.Request) (values, error) {
			s := seshat.FromContext(r.Context())
			if err := s.Err(); err != nil {
				return values{}, err
			}
			var v values
			v.userID = seshat.GetOr(s, "user_id", "")
			v.csrf = seshat.GetOr(s, "csrf_token", "")
			v.theme = seshat.GetOr(s, "theme", "")
			v.cart = seshat.GetOr[[]int](s, "cart", nil)
			return v, nil
		},
		write: func(w http.ResponseWriter, r *http.Request) error {
			s := seshat.FromContext(r.Context())
			t, err := seshat.Get[string](s, "theme")
			if err != nil {
				if err := s.Err(); err != nil {
					return err
				}
				return errNoSession
			}
			return s.Set("theme", otherTheme(t))
		},
	}
	return m.Handler(rt.mux()), nil
}

func newSeshatCookie(context.Context, options) (http.Handler, func(), error) {
	h, err := seshatHandler(nil)
	return h, nop, err
}

func newSeshatMemstore(context.Context, options) (http.Handler, func(), error) {
	store := memstore.New(memstore.Options{})
	h, err := seshatHandler(store)
	return h, func() { store.Close() }, err
}

// redisClient connects to Redis, or reports errSkip when it cannot.
func redisClient(ctx context.Context, o options) (*redis.Client, error) {
	addr := o.redisAddr
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: Redis at %s unreachable: %v", errSkip, addr, err)
	}
	c.AddHook(redisHook{o.stats})
	return c, nil
}

// deleteKeys removes the keys under prefix that a run left in Redis.
func deleteKeys(c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 1000 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}

func newSeshatRedis(ctx context.Context, o options) (http.Handler, func(), error) {
	c, err := redisClient(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	prefix := "seshat-bench:" + o.tag + ":"
	store := redisstore.New(c, redisstore.Options{Prefix: prefix})
	h, err := seshatHandler(store)
	return h, func() { deleteKeys(c, prefix); c.Close() }, err
}

func newSeshatPostgres(ctx context.Context, o options) (http.Handler, func(), error) {
	cfg, err := pgxpool.ParseConfig(o.pgURL)
	if err != nil {
		return nil, nil, err
	}
	cfg.MaxConns = 32
	cfg.ConnConfig.Tracer = pgTracer{o.stats}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = pool.Ping(pctx)
		cancel()
		if err != nil {
			pool.Close()
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: PostgreSQL unreachable: %v", errSkip, err)
	}
	table := "seshat_bench_" + o.tag
	store, err := pgstore.New(ctx, pool, pgstore.Options{Table: table})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	cleanup := func() {
		store.Close()
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pool.Exec(dctx, `DROP TABLE IF EXISTS "`+table+`"`)
		pool.Close()
	}
	h, err := seshatHandler(store)
	return h, cleanup, err
}

func newSeshatSQLite(ctx context.Context, o options) (http.Handler, func(), error) {
	store, err := sqlitestore.Open(ctx, filepath.Join(o.workDir, "seshat-sessions.db"), sqlitestore.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: SQLite: %v", errSkip, err)
	}
	h, err := seshatHandler(store)
	return h, func() { store.Close() }, err
}
