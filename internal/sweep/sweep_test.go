package sweep

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runs, reports atomic.Int32
	go Every(ctx, time.Millisecond, done, func(context.Context) (int, error) {
		if runs.Add(1)%2 == 0 {
			return 0, errors.New("engine down")
		}
		return 1, nil
	}, func(error) { reports.Add(1) })
	for runs.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Every did not stop when ctx was cancelled")
	}
	if reports.Load() == 0 || reports.Load() > runs.Load() {
		t.Fatalf("%d reports for %d runs", reports.Load(), runs.Load())
	}
	after := runs.Load()
	time.Sleep(10 * time.Millisecond)
	if runs.Load() != after {
		t.Fatal("clean ran after done was closed")
	}
}

// A failure caused by the cancellation itself is not reported.
func TestEveryQuietOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var reports atomic.Int32
	go Every(ctx, time.Millisecond, done, func(ctx context.Context) (int, error) {
		cancel()
		return 0, ctx.Err()
	}, func(error) { reports.Add(1) })
	<-done
	if reports.Load() != 0 {
		t.Fatal("a cancellation was reported as a failure")
	}
}
