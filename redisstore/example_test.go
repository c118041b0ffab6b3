package redisstore_test

import (
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/redisstore"
)

// A Manager whose sessions live in Redis: the cookie carries only a signed
// session id, and "log out everywhere" revokes every session of a user
// through the store's user index.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close() // the store never closes the client it is given

	store := redisstore.New(rdb, redisstore.Options{Prefix: "myapp:sess:"})
	sm, err := seshat.New(seshat.Config{
		Keys:  [][]byte{[]byte(os.Getenv("SECRET_KEY"))},
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user") // after checking the password
		s := seshat.FromContext(r.Context())
		s.Renew()           // a new id against session fixation
		s.SetUserID(user)   // indexed: ListByUser and RevokeUser find it
		s.Set("user", user) // one HSET field; concurrent requests merge
	})
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		n, err := store.RevokeUser(r.Context(), s.UserID())
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		log.Printf("revoked %d sessions", n)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", sm.Handler(mux)))
}

// With Redis Cluster, pass a cluster client: each session and each user
// index stays in one slot.
func ExampleNew_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"},
	})
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Options{})
	_ = store // seshat.Config{Store: store, ...}
}
