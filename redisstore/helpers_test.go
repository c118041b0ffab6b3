package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat/internal/testenv"
)

// sharedAddr is the Redis the tests share: $SESHAT_REDIS_ADDR or the local
// server. Tests use their own prefix on it and delete their keys; they never
// flush it.
func sharedAddr() string {
	if a := os.Getenv("SESHAT_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// sharedClient connects to the shared Redis, skipping or failing per testenv
// when it is unreachable.
func sharedClient(t testing.TB) *redis.Client {
	t.Helper()
	addr := sharedAddr()
	testenv.Dial(t, "Redis", addr)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		testenv.Unavailable(t, "Redis", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for t (a hash of its name plus
// randomness) and deletes every key under it when t ends.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var r [8]byte
	rand.Read(r[:])
	sum := sha256.Sum256(append([]byte(t.Name()), r[:]...))
	p := "seshat-test:" + hex.EncodeToString(sum[:6]) + ":"
	t.Cleanup(func() { deletePrefix(t, c, p) })
	return p
}

// deletePrefix removes every key under prefix, on every master of a cluster.
func deletePrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	del := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
		var keys []string
		flush := func() error {
			if len(keys) == 0 {
				return nil
			}
			pipe := c.Pipeline()
			for _, k := range keys {
				pipe.Unlink(ctx, k)
			}
			_, err := pipe.Exec(ctx)
			keys = keys[:0]
			return err
		}
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	} else {
		err = del(ctx, c)
	}
	if err != nil {
		t.Logf("cleaning up keys under %q: %v", prefix, err)
	}
}

// server is a redis-server this test started on a loopback port.
type server struct {
	t    testing.TB
	port int
	dir  string
	args []string
	conf string // a configuration file to start with (sentinel needs one)
	cmd  *exec.Cmd
	done chan struct{}
}

// startServer starts redis-server on a free loopback port in a temporary
// directory with args added to its command line, and stops it (by its PID)
// when t ends. It skips or fails per testenv when redis-server is missing.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Unavailable(t, "redis-server", err)
	}
	s := &server{t: t, port: testenv.FreePort(t), dir: t.TempDir(), args: args}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server and waits until it answers PING.
func (s *server) start() {
	s.t.Helper()
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--daemonize", "no", "--protected-mode", "yes", "--logfile", filepath.Join(s.dir, "redis.log"))
	args = append(args, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s not ready after 15s: %v", s.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the server and waits for it to exit.
func (s *server) kill() {
	s.t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("redis-server (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
	}
	s.cmd = nil
}

// stop ends the server, gracefully first.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
	s.cmd = nil
}

// commandStats returns the calls per command from INFO commandstats, read
// over a connection of its own.
func commandStats(t testing.TB, c *redis.Client) map[string]int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		name, found := strings.CutPrefix(name, "cmdstat_")
		if !ok || !found {
			continue
		}
		// calls counts the commands that ran (failing or not),
		// rejected_calls those refused before running.
		for _, f := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, _ := strconv.Atoi(v)
				out[name] += n
			}
			if v, ok := strings.CutPrefix(f, "rejected_calls="); ok {
				n, _ := strconv.Atoi(v)
				out[name] += n
			}
		}
	}
	return out
}

// scriptInternal lists the commands the store's scripts run inside Redis;
// INFO commandstats counts those too, but they cost no round trip.
var scriptInternal = map[string]bool{
	"hget": true, "hset": true, "hdel": true, "hmget": true, "del": true, "pexpireat": true,
	"zadd": true, "zrem": true, "zremrangebyscore": true, "pttl": true,
}

// topCommands counts the commands clients sent between two commandstats
// snapshots: the store's scripts (EVALSHA, EVAL) and its plain commands
// (HGETALL), leaving out the commands run inside the scripts, what a client
// sends for itself on connecting (HELLO, CLIENT SETINFO, PING) and the INFO
// that took the snapshot. detail lists every delta, inner ones too.
func topCommands(before, after map[string]int) (n int, detail string) {
	var parts []string
	for name, calls := range after {
		d := calls - before[name]
		if d == 0 || name == "info" || name == "hello" || name == "ping" || strings.HasPrefix(name, "client") {
			continue
		}
		if scriptInternal[name] {
			parts = append(parts, fmt.Sprintf("(%s=%d)", name, d))
			continue
		}
		n += d
		parts = append(parts, fmt.Sprintf("%s=%d", name, d))
	}
	sort.Strings(parts)
	return n, strings.Join(parts, " ")
}

// countingHook counts the commands a go-redis client sends (a pipeline
// counts each of its commands), except what it sends on connecting.
type countingHook struct{ n atomic.Int64 }

func ownCommand(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "ping", "auth", "select":
		return false
	}
	return true
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if ownCommand(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if ownCommand(c) {
				h.n.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}
