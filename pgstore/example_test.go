package pgstore_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/pgstore"
)

// A server whose sessions live in PostgreSQL. The example only compiles
// (it needs a server); the package's tests run the same steps for real.
func Example() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	// Naming the pool's connections makes them easy to find (and to kill)
	// in pg_stat_activity.
	cfg.ConnConfig.RuntimeParams["application_name"] = "myapp-sessions"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	store, err := pgstore.New(ctx, pool, pgstore.Options{CleanupInterval: 10 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the cleaner; the pool stays open

	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte(os.Getenv("SECRET_KEY"))},
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		s.Set("items", seshat.GetOr(s, "items", 0)+1) // one merging UPDATE
	})
	log.Fatal(http.ListenAndServe(":8080", sm.Handler(mux)))
}

// Logging a user out everywhere: every session recorded with their id at
// login goes, through the index on user_id.
func ExampleStore_RevokeUser() {
	var store *pgstore.Store // from pgstore.New
	n, err := store.RevokeUser(context.Background(), "42")
	if err != nil {
		log.Print(err) // wraps seshat.ErrStoreUnavailable when the database is down
		return
	}
	log.Printf("ended %d sessions", n)
}
