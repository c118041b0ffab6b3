package storetest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
)

func taker(t *testing.T, s seshat.Store) seshat.Taker {
	tk, ok := s.(seshat.Taker)
	if !ok {
		t.Skip("store is not a seshat.Taker: Session.Take is Pop, and concurrent requests may both get a value (FL-01)")
	}
	return tk
}

// testTake: Take returns a value once and removes only it, keeping the
// other values, the owner and the expiry; a missing name, a missing record
// and an expired record give ok false without an error.
func testTake(t *testing.T, s seshat.Store) {
	tk := taker(t, s)
	ctx := t.Context()
	k, exp := Key(), time.Now().Add(time.Hour)
	mustSave(t, s, k, &seshat.Record{Values: sampleValues(), Expires: exp, UserID: "u1"})
	v, ok, err := tk.Take(ctx, k, "cart")
	if err != nil || !ok || !sameJSON(v, sampleValues()["cart"]) {
		t.Fatalf("Take = %s, %v, %v; want the stored cart", v, ok, err)
	}
	if v, ok, err := tk.Take(ctx, k, "cart"); err != nil || ok {
		t.Fatalf("second Take = %s, %v, %v; want nothing", v, ok, err)
	}
	rec := mustLoad(t, s, k)
	want := sampleValues()
	delete(want, "cart")
	checkValues(t, rec.Values, want)
	if !near(rec.Expires, exp) || rec.UserID != "u1" {
		t.Fatalf("after Take: Expires %v (want about %v), owner %q", rec.Expires, exp, rec.UserID)
	}
	if _, ok, err := tk.Take(ctx, k, "never set"); err != nil || ok {
		t.Fatalf("Take of a missing name: %v, %v", ok, err)
	}
	if _, ok, err := tk.Take(ctx, Key(), "cart"); err != nil || ok {
		t.Fatalf("Take from a missing record: %v, %v", ok, err)
	}
	old := Key()
	if err := s.Save(ctx, old, &seshat.Record{Values: sampleValues(), Expires: time.Now().Add(-time.Second)}); err == nil {
		if _, ok, err := tk.Take(ctx, old, "cart"); err != nil || ok {
			t.Fatalf("Take from an expired record: %v, %v", ok, err)
		}
	}
}

// testTakeConcurrent (FL-01): of 16 goroutines taking one value at once,
// exactly one gets it.
func testTakeConcurrent(t *testing.T, s seshat.Store) {
	tk := taker(t, s)
	for round := range 5 {
		k := Key()
		mustSave(t, s, k, &seshat.Record{Values: map[string][]byte{"_flashes": []byte(`[{" t":["message","hi"]}]`), "user": []byte(`"alice"`)}, Expires: time.Now().Add(time.Hour)})
		var got atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				_, ok, err := tk.Take(t.Context(), k, "_flashes")
				if err != nil {
					t.Error(err)
				}
				if ok {
					got.Add(1)
				}
			})
		}
		wg.Wait()
		if n := got.Load(); n != 1 {
			t.Fatalf("round %d: %d of 16 concurrent Takes got the value, want exactly 1", round, n)
		}
		if _, err := s.Load(t.Context(), k); err != nil {
			t.Fatalf("the record went with the value: %v", err)
		}
	}
}

// testManagerTakeOnce (FL-01, T-21): 10 concurrent requests with one cookie
// each load the session (which then holds the flashed value), wait for one
// another, and call Session.Take: exactly one gets the value (Pop would give
// it to all ten), and the session keeps its other values.
func testManagerTakeOnce(t *testing.T, s seshat.Store) {
	taker(t, s)
	const readers = 10
	a := newApp(t, s)
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
	)
	take := a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := seshat.FromContext(r.Context())
		sess.Has("user") // load
		mu.Lock()
		if arrived++; arrived == readers {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("the concurrent requests never all arrived")
		}
		v, _, err := sess.Take("_flashes")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s, _ := v.(string)
		io.WriteString(w, s)
	}))
	_, _, c := a.do("/set?k=_flashes&v=hello", "")
	a.do("/set?k=user&v=alice", c)
	var shown atomic.Int32
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			req := httptest.NewRequest("GET", "/take", nil)
			req.Header.Set("Cookie", "session="+c)
			rec := httptest.NewRecorder()
			take.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
			if rec.Body.String() == "hello" {
				shown.Add(1)
			}
		})
	}
	wg.Wait()
	if n := shown.Load(); n != 1 {
		t.Fatalf("%d of %d concurrent requests got the flashed value, want exactly 1", n, readers)
	}
	if _, body, _ := a.do("/get?k=user", c); body != "alice" {
		t.Fatalf("other values after the takes: user = %q", body)
	}
	if _, err := s.Load(t.Context(), keyOf(c)); errors.Is(err, seshat.ErrNoRecord) {
		t.Fatal("the session record is gone")
	}
}
