package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat/redisstore"
)

// stats counts what run.sh divides to get round trips per request. The
// counts are taken in this process, so traffic from other programs on the
// same Redis or PostgreSQL does not disturb them.
type stats struct {
	requests   atomic.Int64 // requests served on the benchmark routes
	roundTrips atomic.Int64 // commands, pipelines, statements, batches and prepares sent to the engine
}

// handler counts the requests h serves and answers /_bench/stats itself.
func (s *stats) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_bench/stats" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "requests=%d round_trips=%d\n", s.requests.Load(), s.roundTrips.Load())
			return
		}
		s.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// redisHook counts the round trips each request waits for: one per command
// and one per pipeline (a pipeline's commands travel together), except that
// a pipeline redisstore made by batching the commands of concurrent requests
// counts one per command, since each of those requests waited for it.
type redisHook struct{ s *stats }

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.s.roundTrips.Add(1)
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if redisstore.Batched(ctx) {
			h.s.roundTrips.Add(int64(len(cmds)))
		} else {
			h.s.roundTrips.Add(1)
		}
		return next(ctx, cmds)
	}
}

// pgTracer counts one round trip per statement, per batch and per prepare
// (pgx prepares a statement once per connection before first using it).
type pgTracer struct{ s *stats }

var (
	_ pgx.QueryTracer   = pgTracer{}
	_ pgx.BatchTracer   = pgTracer{}
	_ pgx.PrepareTracer = pgTracer{}
)

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.s.roundTrips.Add(1)
	return ctx
}

func (pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.s.roundTrips.Add(1)
	return ctx
}

func (pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (t pgTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	t.s.roundTrips.Add(1)
	return ctx
}

func (pgTracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}
