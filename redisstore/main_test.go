package redisstore

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// clientLogs counts what go-redis logs (redial failures while a test's
// server is down) instead of flooding the test output with it; the tests
// that provoke such logs report the count.
var clientLogs atomic.Int64

type countingLogger struct{}

func (countingLogger) Printf(_ context.Context, format string, v ...any) {
	if clientLogs.Add(1) == 1 && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "go-redis (first of its log lines; the rest are counted): "+format+"\n", v...)
	}
}

// TestMain also fails the run when a goroutine outlives the tests (a
// client, pipeline or subscription a store method left behind).
func TestMain(m *testing.M) {
	redis.SetLogger(countingLogger{})
	goleak.VerifyTestMain(m)
}
