package mysqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/mysqlstore"
)

// A manager keeping its sessions in MariaDB. (Not run: it needs a server.)
func Example() {
	db, err := sql.Open("mysql", "app:secret@tcp(127.0.0.1:3306)/app")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := mysqlstore.New(ctx, db, mysqlstore.Options{}) // creates seshat_sessions if needed
	if err != nil {
		log.Fatal(err) // errors.Is(err, seshat.ErrStoreUnavailable) when the server is down
	}
	defer store.Close()

	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte("a-32-byte-or-longer-random-secret-key")},
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if uid := s.UserID(); uid != "" {
			store.RevokeUser(r.Context(), uid)
		}
		s.Destroy()
	})
	log.Fatal(http.ListenAndServe(":8080", sm.Handler(mux)))
}
