package flash_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flash"
	"github.com/seshat-go/seshat/memstore"
)

// TestFL01_ShownOnce: a flashed message, then 10 concurrent requests with
// the same cookie that read flashes: with a store (a seshat.Taker) exactly
// one shows it; the session itself survives.
func TestFL01_ShownOnce(t *testing.T) {
	const readers = 10
	m, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte("flash-test-key-flash-test-key-01")},
		Store: memstore.New(memstore.Options{SweepInterval: -1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("user", "alice")
		flash.Add(s, "info", "Saved")
	})
	// Every /show request loads its session, then waits until all of the
	// round's requests have loaded theirs, so each holds the message when
	// it reads the flashes: only an atomic take can show it once.
	var (
		mu      sync.Mutex
		arrived int
		all     chan struct{}
	)
	mux.HandleFunc("/show", func(w http.ResponseWriter, r *http.Request) {
		seshat.FromContext(r.Context()).Has("user")
		mu.Lock()
		ch := all
		if arrived++; arrived == readers {
			close(ch)
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Error("the round's requests never all arrived")
		}
		for _, msg := range flash.Messages(r) {
			io.WriteString(w, msg.Text)
		}
	})
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, seshat.GetOr(seshat.FromContext(r.Context()), "user", ""))
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	send := func(path, cookie string) (string, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return "", ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		set := ""
		if cs := resp.Cookies(); len(cs) > 0 {
			set = cs[0].Name + "=" + cs[0].Value
		}
		return string(b), set
	}
	for round := range 3 {
		_, cookie := send("/add", "")
		mu.Lock()
		arrived, all = 0, make(chan struct{})
		mu.Unlock()
		var shown atomic.Int32
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				if body, _ := send("/show", cookie); body == "Saved" {
					shown.Add(1)
				}
			})
		}
		wg.Wait()
		if n := shown.Load(); n != 1 {
			t.Fatalf("round %d: %d of 10 concurrent requests showed the message, want 1", round, n)
		}
		if body, _ := send("/user", cookie); body != "alice" {
			t.Fatalf("round %d: session after the reads: user %q", round, body)
		}
	}
}
