package sqlitestore_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/sqlitestore"
)

// Sessions in an SQLite file: a counter survives from one request to the
// next, and the cookie carries only the signed session id.
func Example() {
	dir, err := os.MkdirTemp("", "sqlitestore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "sessions.db"), sqlitestore.Options{
		CleanupInterval: 10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte("an example key of at least 32 bytes")},
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/visit", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		n := seshat.GetOr(s, "visits", 0) + 1
		s.Set("visits", n)
		fmt.Fprintf(w, "visit %d", n)
	})
	srv := httptest.NewServer(sm.Handler(mux))
	defer srv.Close()

	cookie := ""
	for range 3 {
		req, _ := http.NewRequest("GET", srv.URL+"/visit", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			cookie = strings.SplitN(sc, ";", 2)[0]
		}
		fmt.Println(string(body))
	}

	n := 0
	store.Iterate(ctx, func(seshat.SessionInfo) error { n++; return nil })
	fmt.Println("sessions stored:", n)
	// Output:
	// visit 1
	// visit 2
	// visit 3
	// sessions stored: 1
}
