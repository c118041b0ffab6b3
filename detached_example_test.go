package seshat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
)

// A websocket endpoint shares the session of the pages around it: the
// handshake loads it by its cookie, and the connection's goroutine saves
// what it changes long after the middleware has sent the response header.
// (examples/websocket runs the same with a real websocket.)
func ExampleManager_Detach() {
	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte("a-long-random-key-from-your-secret-store")},
		Store: memstore.New(memstore.Options{}), // in cookie mode Save reports ErrNoCookieAfterUpgrade
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("page_views", seshat.GetOr(s, "page_views", 0)+1)
		fmt.Fprintf(w, "messages received: %d", seshat.GetOr(s, "messages", 0))
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		d, err := sm.Detach(r.Context(), r)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		// websocket.Accept(w, r, nil) would take the connection over here;
		// this goroutine stands for the connection's read loop.
		done := make(chan error)
		go func() {
			ctx := context.Background()
			for range 3 { // three messages arrive
				d.Set("messages", seshat.GetOr(d.Session, "messages", 0)+1)
				if err := d.Save(ctx); errors.Is(err, seshat.ErrSessionGone) {
					done <- err // logged out elsewhere: close the connection
					return
				}
			}
			done <- nil
		}()
		fmt.Fprint(w, <-done)
	})
	srv := httptest.NewServer(sm.Handler(mux))
	defer srv.Close()

	cookie := ""
	get := func(path string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			cookie = strings.SplitN(sc, ";", 2)[0]
		}
		fmt.Printf("%s: %s\n", path, body)
	}
	get("/")
	get("/ws")
	get("/")
	// Output:
	// /: messages received: 0
	// /ws: <nil>
	// /: messages received: 3
}
