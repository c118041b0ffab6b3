package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// gateHook holds the first command sent alone on a key ending in ":gate"
// until release is closed, so that a test can fill the batcher's queue
// behind it; and it records every pipeline the store batched.
type gateHook struct {
	release chan struct{}
	held    chan struct{} // closed once the gate command is held
	once    sync.Once
	// pipeHeld, when set, is closed as a batched pipeline reaches the
	// hook, which then waits for pipeGo before sending it.
	pipeHeld, pipeGo chan struct{}

	mu      sync.Mutex
	batches [][]string // command names of each batched pipeline
	other   int        // pipelines not marked Batched
}

func newGateHook() *gateHook {
	return &gateHook{release: make(chan struct{}), held: make(chan struct{})}
}

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		gate := false
		if k, ok := cmd.Args()[len(cmd.Args())-1].(string); ok && strings.HasSuffix(k, ":gate") {
			h.once.Do(func() { gate = true })
		}
		if gate {
			close(h.held)
			select {
			case <-h.release:
			case <-time.After(20 * time.Second):
				return errors.New("gate never released")
			}
		}
		return next(ctx, cmd)
	}
}

func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.pipeHeld != nil && Batched(ctx) {
			close(h.pipeHeld)
			select {
			case <-h.pipeGo:
			case <-time.After(20 * time.Second):
				return errors.New("pipeline never released")
			}
		}
		h.mu.Lock()
		if Batched(ctx) {
			names := make([]string, len(cmds))
			for i, c := range cmds {
				names[i] = c.Name()
			}
			h.batches = append(h.batches, names)
		} else {
			h.other++
		}
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// holdSlot makes a store with MaxInFlight 1 whose only slot is held by a
// Load of the gate key; it returns the store and a function that waits
// until n commands queue behind it and then lets everything go.
func holdSlot(t *testing.T, c *redis.Client) (*Store, *gateHook, func(n int)) {
	t.Helper()
	h := newGateHook()
	c.AddHook(h)
	s := New(c, Options{Prefix: testPrefix(t, c), MaxInFlight: 1})
	gate := make(chan error, 1)
	go func() {
		_, err := s.Load(context.Background(), "gate")
		gate <- err
	}()
	select {
	case <-h.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the gate command never reached the client")
	}
	return s, h, func(n int) {
		t.Helper()
		waitQueued(t, s, n)
		close(h.release)
		if err := <-gate; !errors.Is(err, seshat.ErrNoRecord) {
			t.Errorf("gate Load: %v, want ErrNoRecord", err)
		}
	}
}

// waitQueued waits until n commands wait in s's batcher queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.batch.mu.Lock()
		queued := len(s.batch.queue)
		s.batch.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commands queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatchedCallsKeepTheirOwnResults queues Saves, Merges (some on
// sessions that do not exist) and Loads behind a held round trip, and checks
// that they go out as one pipeline and that each call gets its own result.
func TestBatchedCallsKeepTheirOwnResults(t *testing.T) {
	c := sharedClient(t)
	s, h, release := holdSlot(t, c)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	// The records the Merges and Loads below find, written through a second
	// store on the same prefix that does not batch (the first one's only
	// slot is held).
	direct := New(c, Options{Prefix: s.prefix, MaxInFlight: -1})
	for i := range 5 {
		rec := &seshat.Record{Values: map[string][]byte{"n": fmt.Appendf(nil, "%d", i)}, Expires: exp}
		if err := direct.Save(ctx, fmt.Sprintf("live%d", i), rec); err != nil {
			t.Fatal(err)
		}
	}

	const n = 15 // 5 Merges on live records, 5 on missing ones, 5 Loads
	errs := make([]error, n)
	loaded := make([]*seshat.Record, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			switch i / 5 {
			case 0:
				errs[i] = s.Merge(ctx, fmt.Sprintf("live%d", i), &seshat.Change{
					Set: map[string][]byte{"m": []byte(`"merged"`)}, Expires: exp})
			case 1:
				errs[i] = s.Merge(ctx, fmt.Sprintf("missing%d", i), &seshat.Change{
					Set: map[string][]byte{"m": []byte(`"x"`)}, Expires: exp})
			case 2:
				loaded[i], errs[i] = s.Load(ctx, fmt.Sprintf("live%d", i-10))
			}
		})
	}
	release(n)
	wg.Wait()

	for i := range n {
		switch i / 5 {
		case 0:
			if errs[i] != nil {
				t.Errorf("merge live%d: %v", i, errs[i])
			}
			rec, err := direct.Load(ctx, fmt.Sprintf("live%d", i))
			if err != nil || string(rec.Values["m"]) != `"merged"` || string(rec.Values["n"]) != fmt.Sprint(i) {
				t.Errorf("live%d after the batched merge: %v %v", i, rec, err)
			}
		case 1:
			if !errors.Is(errs[i], seshat.ErrSessionGone) {
				t.Errorf("merge missing%d: %v, want ErrSessionGone", i, errs[i])
			}
			if _, err := direct.Load(ctx, fmt.Sprintf("missing%d", i)); !errors.Is(err, seshat.ErrNoRecord) {
				t.Errorf("missing%d was created: %v", i, err)
			}
		case 2:
			if errs[i] != nil || string(loaded[i].Values["n"]) != fmt.Sprint(i-10) {
				t.Errorf("load live%d: %v %v", i-10, loaded[i], errs[i])
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	total := 0
	for _, b := range h.batches {
		total += len(b)
	}
	if total != n || len(h.batches) == 0 || len(h.batches[0]) < 2 {
		t.Errorf("batched pipelines %v: want the %d queued commands, several per pipeline", h.batches, n)
	}
	if h.other != 0 {
		t.Errorf("%d pipelines not marked Batched", h.other)
	}
}

// TestBatchedCallerGivesUp checks that a queued call whose context ends
// returns the context's error at once, and that its command is never sent
// while the others' are.
func TestBatchedCallerGivesUp(t *testing.T) {
	c := sharedClient(t)
	s, h, release := holdSlot(t, c)
	exp := time.Now().Add(time.Hour)
	ctx := context.Background()

	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() {
		gaveUp <- s.Save(cctx, "abandoned", &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: exp})
	}()
	kept := make(chan error, 1)
	go func() {
		kept <- s.Save(ctx, "kept", &seshat.Record{Values: map[string][]byte{"a": []byte("1")}, Expires: exp})
	}()
	waitQueued(t, s, 2)
	cancel()
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, seshat.ErrStoreUnavailable) {
			t.Errorf("abandoned Save: %v, want context.Canceled as ErrStoreUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a queued call did not return when its context ended")
	}
	release(2)
	if err := <-kept; err != nil {
		t.Fatalf("kept Save: %v", err)
	}
	// Checked through a store that does not batch: s's flush goroutine may
	// still hold the only slot, and a Load through s would ride in a batch.
	direct := New(c, Options{Prefix: s.prefix, MaxInFlight: -1})
	if _, err := direct.Load(ctx, "kept"); err != nil {
		t.Errorf("kept: %v", err)
	}
	if _, err := direct.Load(ctx, "abandoned"); !errors.Is(err, seshat.ErrNoRecord) {
		t.Errorf("the abandoned Save was sent: Load gives %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.batches) != 1 || len(h.batches[0]) != 1 {
		t.Errorf("batched pipelines %v, want one holding only the kept Save", h.batches)
	}
}

// TestCallerGivesUpWhileItsPipelineRuns cancels a call whose command is
// already in a pipeline on its way to Redis: the call returns, and (under
// -race) nothing it returns is written later by the pipeline, which still
// completes for the other caller in it. Returning the pipeline's command
// with the context's error set on it failed here with a data race.
func TestCallerGivesUpWhileItsPipelineRuns(t *testing.T) {
	c := sharedClient(t)
	s, h, release := holdSlot(t, c)
	h.pipeHeld, h.pipeGo = make(chan struct{}), make(chan struct{})
	exp := time.Now().Add(time.Hour)
	ctx := context.Background()
	rec := func(v string) *seshat.Record {
		return &seshat.Record{Values: map[string][]byte{"a": []byte(v)}, Expires: exp}
	}
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- s.Save(cctx, "left", rec("1")) }()
	kept := make(chan error, 1)
	go func() {
		kept <- s.Merge(ctx, "kept", &seshat.Change{Set: map[string][]byte{"a": []byte("2")}, Expires: exp, Create: true})
	}()
	release(2)
	select {
	case <-h.pipeHeld:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch never reached the hook")
	}
	// The pipeline goes on right after the cancellation, with nothing that
	// orders the caller's return after it: under -race, a reply the
	// pipeline writes into anything the caller still reads is reported.
	cancel()
	close(h.pipeGo)
	select {
	case err := <-gaveUp:
		// The caller almost always sees its context end first (the
		// pipeline still has a round trip to make); a reply that arrives
		// first is also a correct outcome.
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Save whose caller gave up: %v, want context.Canceled or success", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call whose command was in flight never returned")
	}
	if err := <-kept; err != nil {
		t.Fatalf("the other call in the pipeline: %v", err)
	}
	direct := New(c, Options{Prefix: s.prefix, MaxInFlight: -1})
	// The abandoned Save was already sent: like any command whose caller
	// gives up after sending, it still runs.
	for _, k := range []string{"kept", "left"} {
		if _, err := direct.Load(ctx, k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

// TestBatchedScriptsOnAnEmptyScriptCache batches Merges on a fresh server,
// which knows none of the store's scripts: each EVALSHA in the pipeline
// fails with NOSCRIPT and the call runs its script with EVAL instead.
func TestBatchedScriptsOnAnEmptyScriptCache(t *testing.T) {
	srv := startServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialTimeout: 2 * time.Second})
	t.Cleanup(func() { c.Close() })
	s, h, release := holdSlot(t, c)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Merge(ctx, fmt.Sprint("k", i), &seshat.Change{
				Set: map[string][]byte{"v": fmt.Appendf(nil, "%d", i)}, Expires: exp, Create: true})
		})
	}
	release(n)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("merge k%d: %v", i, err)
		} else if rec, err := s.Load(ctx, fmt.Sprint("k", i)); err != nil || string(rec.Values["v"]) != fmt.Sprint(i) {
			t.Errorf("k%d: %v %v", i, rec, err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.batches) == 0 {
		t.Error("nothing was batched")
	}
}

// TestBatchingUnderConcurrency runs many goroutines of merges and loads on
// shared sessions through a batching store (with the race detector in CI):
// every merge of a distinct key persists, whatever batch it rode in.
func TestBatchingUnderConcurrency(t *testing.T) {
	c := sharedClient(t)
	var pipelines, batched atomic.Int64
	h := &pipelineCounter{pipelines: &pipelines, batched: &batched}
	c.AddHook(h)
	s := New(c, Options{Prefix: testPrefix(t, c), MaxInFlight: 2})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const sessions, writers, rounds = 4, 16, 20
	for i := range sessions {
		if err := s.Save(ctx, fmt.Sprint("s", i), &seshat.Record{Values: map[string][]byte{}, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				key := fmt.Sprint("s", (w+r)%sessions)
				if err := s.Merge(ctx, key, &seshat.Change{
					Set: map[string][]byte{fmt.Sprintf("w%d.r%d", w, r): []byte("1")}, Expires: exp}); err != nil {
					t.Errorf("merge: %v", err)
					return
				}
				if _, err := s.Load(ctx, key); err != nil {
					t.Errorf("load: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range sessions {
		rec, err := s.Load(ctx, fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		total += len(rec.Values)
	}
	if total != writers*rounds {
		t.Errorf("%d values persisted, want %d", total, writers*rounds)
	}
	// A flush goroutine gives its slot back just after its callers return:
	// every slot must come back, and soon.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.batch.mu.Lock()
		inFlight, queued := s.batch.inFlight, len(s.batch.queue)
		s.batch.mu.Unlock()
		if inFlight == 0 && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after all calls returned: %d in flight, %d queued", inFlight, queued)
		}
	}
	t.Logf("%d batched commands in %d pipelines", batched.Load(), pipelines.Load())
}

// pipelineCounter counts batched pipelines and the commands in them.
type pipelineCounter struct{ pipelines, batched *atomic.Int64 }

func (h *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if Batched(ctx) {
			h.pipelines.Add(1)
			h.batched.Add(int64(len(cmds)))
		}
		return next(ctx, cmds)
	}
}

// TestConformanceWithoutBatching runs the shared store suite with batching
// turned off, the path every call takes when MaxInFlight is negative.
func TestConformanceWithoutBatching(t *testing.T) {
	c := sharedClient(t)
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s := New(c, Options{Prefix: testPrefix(t, c), MaxInFlight: -1})
		if s.batch != nil {
			t.Fatal("MaxInFlight -1 still batches")
		}
		return s
	})
}

func TestBatchedIsFalseElsewhere(t *testing.T) {
	if Batched(context.Background()) {
		t.Error("Batched(Background) is true")
	}
	if !Batched(batchContext{context.Background()}) {
		t.Error("Batched of a batch context is false")
	}
}
