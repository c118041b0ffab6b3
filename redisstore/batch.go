package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultMaxInFlight is how many commands or pipelines the store keeps in
// flight to Redis at once before it starts batching (Options.MaxInFlight).
const DefaultMaxInFlight = 2

// batcher sends the commands of concurrent store calls together. Up to
// limit calls go out alone, each with its own context, exactly as without a
// batcher. A call that finds limit round trips already in flight queues its
// command; the first round trip to finish sends everything queued by then
// as one pipeline (one write and one read for the lot, on the client and in
// Redis) and keeps doing so until the queue is empty. Under light load
// nothing waits; under heavy load each round trip carries many commands,
// which is where go-redis spends its time: a health-check peek, a write and
// a read that parks, per command.
//
// Every command is still one atomic step in Redis (a script or a single
// command), so batching changes neither the results nor the order of two
// calls one goroutine makes: a call returns only after its reply arrived.
type batcher struct {
	c     redis.UniversalClient
	limit int

	mu       sync.Mutex
	inFlight int
	queue    []*queued
}

// queued is one command waiting for the next pipeline.
type queued struct {
	ctx  context.Context
	cmd  redis.Cmder
	gone atomic.Bool   // the caller stopped waiting: do not send
	done chan struct{} // closed when cmd holds its reply or error
}

// do sends cmd, alone or in a batch, and returns once cmd holds its reply,
// or with ctx's error when ctx ends first (a command already handed to a
// pipeline may then still run, as with any command whose caller gives up).
func (b *batcher) do(ctx context.Context, cmd redis.Cmder) error {
	b.mu.Lock()
	if b.inFlight < b.limit {
		b.inFlight++
		b.mu.Unlock()
		err := b.c.Process(ctx, cmd)
		b.release()
		return err
	}
	q := &queued{ctx: ctx, cmd: cmd, done: make(chan struct{})}
	b.queue = append(b.queue, q)
	b.mu.Unlock()
	select {
	case <-q.done:
		return cmd.Err()
	case <-ctx.Done():
		q.gone.Store(true)
		return ctx.Err()
	}
}

// release ends a round trip: its slot goes to the queued commands, sent in
// a pipeline from a new goroutine (so that the caller that held the slot
// returns at once), or back to the pool when nothing waits.
func (b *batcher) release() {
	if batch := b.next(); len(batch) > 0 {
		go b.flush(batch)
	}
}

// flush sends batch, then whatever queued meanwhile, until the queue is
// empty; it holds one in-flight slot throughout.
func (b *batcher) flush(batch []*queued) {
	for ; len(batch) > 0; batch = b.next() {
		b.send(batch)
	}
}

// next is called by the holder of an in-flight slot whose round trip has
// ended: it takes everything queued, keeping the slot to send it, or gives
// the slot back when nothing waits.
func (b *batcher) next() []*queued {
	b.mu.Lock()
	defer b.mu.Unlock()
	batch := b.queue
	b.queue = nil
	if len(batch) == 0 {
		b.inFlight--
	}
	return batch
}

// send runs one pipeline of the commands in batch whose callers still wait.
// Its context carries no caller's cancellation (one caller giving up must
// not fail the others' commands); it ends at the latest of the callers'
// deadlines, or has none when one of them has none.
func (b *batcher) send(batch []*queued) {
	var (
		latest   time.Time
		noLimit  bool
		live     int
		pipeline = b.c.Pipeline()
	)
	for _, q := range batch {
		if q.gone.Load() {
			continue
		}
		live++
		if d, ok := q.ctx.Deadline(); !ok {
			noLimit = true
		} else if d.After(latest) {
			latest = d
		}
		_ = pipeline.Process(q.ctx, q.cmd) // queues the command; Exec sends it
	}
	if live > 0 {
		ctx := context.Context(batchContext{context.Background()})
		if !noLimit {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, latest)
			defer cancel()
		}
		_, _ = pipeline.Exec(ctx) // each command keeps its own error
	}
	for _, q := range batch {
		close(q.done)
	}
}

// batchContext marks the context of a pipeline made by batching the
// commands of concurrent calls; see [Batched].
type batchContext struct{ context.Context }

type batchKey struct{}

func (c batchContext) Value(key any) any {
	if _, ok := key.(batchKey); ok {
		return true
	}
	return c.Context.Value(key)
}

// Batched reports whether ctx is the context of a pipeline that a Store made
// by batching the commands of concurrent calls (see Options.MaxInFlight).
// Each command of such a pipeline belongs to a different call, and each of
// those calls waited for one round trip: a go-redis hook that counts round
// trips per call, or traces calls, counts each of its commands as one.
func Batched(ctx context.Context) bool {
	b, _ := ctx.Value(batchKey{}).(bool)
	return b
}
