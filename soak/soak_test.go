package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seshat-go/seshat/internal/testenv"
)

// TestSmoke is the soak's short mode: a few seconds per store, two engine
// restarts each, every must-be-zero figure checked. The long run is
// `go run ./soak` (docs/SECURITY.md, Reliability).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own Redis and PostgreSQL servers")
	}
	redis.SetLogger(quietRedis{})
	o := options{
		Duration: 12 * time.Second,
		Outage:   time.Second,
		// Generous: under the race detector on a busy machine the pools
		// take a while to redial. Lost sessions and updates are checked
		// regardless of timing.
		Grace:        5 * time.Second,
		Restarts:     2,
		RedisRetries: -1,
		Clients:      8,
		Rate:         200,
		RedisBin:     "redis-server",
		PGBin:        "/usr/lib/postgresql/15/bin",
		Log:          testLog{t},
	}
	var stores []string
	if _, err := exec.LookPath(o.RedisBin); err != nil {
		testenv.Unavailable(t, "redis-server binary", err)
	} else {
		stores = append(stores, "redis")
	}
	if _, err := os.Stat(filepath.Join(o.PGBin, "initdb")); err != nil {
		testenv.Unavailable(t, "PostgreSQL 15 binaries", err)
	} else {
		stores = append(stores, "postgres")
	}
	dir, err := os.MkdirTemp("", "seshat-soak-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	o.WorkDir = dir
	all, err := run(context.Background(), o, stores)
	var out strings.Builder
	if len(all) > 0 {
		report(&out, o, all)
	}
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if len(f.Violations) > 0 {
			t.Errorf("%s: %s", f.Store, strings.Join(f.Violations, "; "))
		}
		if f.tally.Writes == 0 || f.tally.Reads == 0 || f.tally.Logins == 0 {
			t.Errorf("%s: traffic missing: %+v", f.Store, f.tally)
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
