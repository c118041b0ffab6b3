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
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/signing"
)

// A counter kept in a signed cookie that a Flask app with the same
// SECRET_KEY can read and write too.
func ExampleManager_Handler() {
	sm, err := seshat.New(seshat.Config{
		Keys:     [][]byte{[]byte("a-long-random-key-from-your-secret-store")},
		Lifetime: 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		n := seshat.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d", n)
	})
	srv := httptest.NewServer(sm.Handler(mux))
	defer srv.Close()

	var cookie string
	for range 3 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cookie = strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0]
		fmt.Println(string(body))
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

// Typed access with a clear error for a missing key or a wrong type.
func ExampleGet() {
	sm, _ := seshat.New(seshat.Config{Keys: [][]byte{[]byte("a-long-random-key-from-your-secret-store")}})
	s, _ := sm.Load(context.Background(), httptest.NewRequest("GET", "/", nil))
	s.Set("user", "alice")
	s.Set("cart", []int{3, 5})

	user, _ := seshat.Get[string](s, "user")
	cart, _ := seshat.Get[[]int](s, "cart")
	_, err := seshat.Get[int](s, "user")
	_, missing := seshat.Get[string](s, "theme")
	fmt.Println(user, cart)
	fmt.Println(errors.Is(err, seshat.ErrTypeMismatch), errors.Is(missing, seshat.ErrNotFound))
	// Output:
	// alice [3 5]
	// true true
}

// Reading a Flask session cookie outside a request, and telling why one is
// refused.
func ExampleCookieCodec() {
	// Flask: app.secret_key = "dev-secret-key-1"; session.update(user="alice", cart=[1,2,3], n=7)
	flaskCookie := "eyJjYXJ0IjpbMSwyLDNdLCJuIjo3LCJ1c2VyIjoiYWxpY2UifQ.ZeyHgA.jty9mBYQUNixzO8FQerLUX8DCz4"
	codec, _ := seshat.NewCookieCodec([][]byte{[]byte("dev-secret-key-1")}, "")
	signedAt := time.Unix(1710000000, 0)

	values, err := codec.Decode(flaskCookie, time.Hour, signedAt.Add(time.Minute))
	fmt.Println(values["user"], values["cart"], err)

	_, err = codec.Decode(flaskCookie, time.Hour, signedAt.Add(2*time.Hour))
	fmt.Println(errors.Is(err, signing.ErrSignatureExpired))

	again, _ := codec.Encode(values, signedAt)
	fmt.Println(again == flaskCookie)
	// Output:
	// alice [1 2 3] <nil>
	// true
	// true
}
