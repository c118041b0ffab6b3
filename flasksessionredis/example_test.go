package flasksessionredis_test

import (
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flasksession"
	"github.com/seshat-go/seshat/flasksessionredis"
)

// Share sessions with a Flask app configured with SESSION_TYPE="redis",
// SESSION_USE_SIGNER=True and the same SECRET_KEY.
func Example() {
	secret := []byte("the Flask app's SECRET_KEY, at least 32 bytes long")
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	ids, err := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{secret}})
	if err != nil {
		log.Fatal(err)
	}
	m, err := seshat.New(seshat.Config{
		Keys:     [][]byte{secret},
		Store:    flasksessionredis.New(rdb, flasksessionredis.Options{Prefix: "session:"}),
		IDScheme: ids,
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := seshat.FromContext(r.Context()).Get("user") // set by the Flask app
		_ = user
	})))
}
