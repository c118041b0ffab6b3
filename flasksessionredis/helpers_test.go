package flasksessionredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat/internal/testenv"
)

// redisAddr is the Redis the tests share: $SESHAT_REDIS_ADDR or the local
// server. Every test works under a prefix of its own and deletes its keys;
// nothing is ever flushed.
func redisAddr() string {
	if a := os.Getenv("SESHAT_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// client connects to the shared Redis, skipping or failing per testenv when
// it is unreachable.
func client(t testing.TB) *redis.Client {
	t.Helper()
	addr := redisAddr()
	testenv.Dial(t, "Redis", addr)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, PoolSize: 64})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		testenv.Unavailable(t, "Redis", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// prefix returns a SESSION_KEY_PREFIX of t's own and deletes every key under
// it when t ends.
func prefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	p := "seshat-fstest:" + hex.EncodeToString(r[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, globEscape(p)+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup scan: %v", err)
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
				return
			}
			keys = keys[n:]
		}
	})
	return p
}
