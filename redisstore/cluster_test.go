package redisstore

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/internal/testenv"
	"github.com/seshat-go/seshat/storetest"
)

// startCluster starts three redis-server masters in cluster mode on free
// loopback ports, joins them with redis-cli --cluster create, waits for
// cluster_state:ok and returns a cluster client. The servers are stopped by
// PID when t ends.
func startCluster(t *testing.T) *redis.ClusterClient {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		testenv.Unavailable(t, "redis-cli", err)
	}
	var nodes []*server
	var addrs []string
	for range 3 {
		bus := testenv.FreePort(t)
		n := startServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no")
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				t.Fatalf("node %s: cluster not ok before the deadline: %v %s", n.addr(), err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second})
	t.Cleanup(func() { cc.Close() })
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	return cc
}

// TestCluster runs the shared suite and the user index across a Redis
// Cluster of three masters started for the test.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test skipped in -short mode")
	}
	cc := startCluster(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) seshat.Store {
			s := New(cc, Options{Prefix: testPrefix(t, cc)})
			if !s.cluster {
				t.Fatal("a cluster client must select the split path")
			}
			return s
		})
	})
	t.Run("UserIndexAcrossNodes", func(t *testing.T) {
		s := New(cc, Options{Prefix: testPrefix(t, cc)})
		ctx := t.Context()
		exp := time.Now().Add(time.Hour)
		const n = 30
		keys := map[string]bool{}
		for i := range n {
			k := storetest.Key()
			keys[k] = true
			if i%2 == 0 {
				err := s.Save(ctx, k, rec("grace", exp, "i", strconv.Itoa(i)))
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if err := s.Save(ctx, k, rec("", exp, "i", strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
				err := s.Merge(ctx, k, &seshat.Change{Expires: exp, UserID: "grace", SetUser: true})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		// The sessions are spread over the masters; the index is on one.
		perNode := map[string]int{}
		for k := range keys {
			slot, err := cc.ClusterKeySlot(ctx, s.sessionKey(k)).Result()
			if err != nil {
				t.Fatal(err)
			}
			perNode[nodeOf(t, cc, slot)]++
		}
		if len(perNode) < 2 {
			t.Fatalf("sessions all on one node: %v", perNode)
		}
		t.Logf("30 sessions of one user over the masters: %v", perNode)
		infos, err := s.ListByUser(ctx, "grace")
		if err != nil || len(infos) != n {
			t.Fatalf("ListByUser = %d sessions, %v; want %d", len(infos), err, n)
		}
		// A sliding expiry keeps the index covering the session.
		var one string
		for k := range keys {
			one = k
			break
		}
		later := time.Now().Add(5 * time.Hour)
		if err := s.Touch(ctx, one, later); err != nil {
			t.Fatal(err)
		}
		if sc := cc.ZScore(ctx, s.indexKey("grace"), one).Val(); int64(sc) < later.UnixMilli() {
			t.Fatalf("index score %d below the session's expiry %d after Touch", int64(sc), later.UnixMilli())
		}
		got, err := s.RevokeUser(ctx, "grace")
		if err != nil || got != n {
			t.Fatalf("RevokeUser = %d, %v; want %d", got, err, n)
		}
		for k := range keys {
			if _, err := s.Load(ctx, k); err == nil {
				t.Fatal("a revoked session survived")
			}
		}
		if cc.Exists(ctx, s.indexKey("grace")).Val() != 0 {
			t.Fatal("the index survived RevokeUser")
		}
		seen := 0
		if err := s.Iterate(ctx, func(seshat.SessionInfo) error { seen++; return nil }); err != nil || seen != 0 {
			t.Fatalf("Iterate after revocation: %d, %v", seen, err)
		}
	})
}

// nodeOf returns the address of the master serving slot.
func nodeOf(t *testing.T, cc *redis.ClusterClient, slot int64) string {
	t.Helper()
	shards, err := cc.ClusterShards(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if r.Start <= slot && slot <= r.End && len(sh.Nodes) > 0 {
				return fmt.Sprintf("%s:%d", sh.Nodes[0].IP, sh.Nodes[0].Port)
			}
		}
	}
	t.Fatalf("slot %d not served", slot)
	return ""
}
