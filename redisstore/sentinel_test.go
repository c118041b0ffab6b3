package redisstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/storetest"
)

// TestSentinel runs the shared suite through a Sentinel-managed client
// (redis.NewFailoverClient): a master and a sentinel (redis-server
// --sentinel) started for the test on loopback ports.
func TestSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("sentinel test skipped in -short mode")
	}
	master := startServer(t, "--save", "", "--appendonly", "no")
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("sentinel monitor seshat 127.0.0.1 %d 1\nsentinel down-after-milliseconds seshat 5000\n", master.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	sent := &server{t: t, port: testenv.FreePort(t), dir: dir, conf: conf, args: []string{"--sentinel"}}
	sent.start()
	t.Cleanup(sent.stop)

	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "seshat", SentinelAddrs: []string{sent.addr()}, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no master through the sentinel: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s := New(c, Options{Prefix: testPrefix(t, c)})
		if s.cluster {
			t.Fatal("a failover client is a *redis.Client: the single-node path applies")
		}
		return s
	})
}
