// Package sweep runs a store's background cleanup of expired records.
package sweep

import (
	"context"
	"time"
)

// Every calls clean every interval until ctx is cancelled, then closes done
// (the store's Close cancels ctx and waits on done). A failure is handed to
// report, unless it happened because ctx was cancelled meanwhile.
func Every(ctx context.Context, interval time.Duration, done chan<- struct{}, clean func(context.Context) (int, error), report func(error)) {
	defer close(done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := clean(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
	}
}
