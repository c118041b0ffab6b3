package login_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/memstore"
)

type user struct{ id string }

func (u user) ID() string { return u.id }

func Example() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	sm, err := seshat.New(seshat.Config{
		Keys:   [][]byte{[]byte("an example key of at least 32 bytes!!")},
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	lm, err := login.New(login.Config{
		LoadUser: func(ctx context.Context, id string) (login.User, error) {
			if id == "42" {
				return user{id}, nil
			}
			return nil, nil
		},
		LoginURL: "/login",
		Tokens:   login.NewMemoryTokens(nil),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// A real handler checks the password first.
		if err := lm.LoginUser(w, r, user{"42"}, login.LoginOptions{Remember: true}); err != nil {
			http.Error(w, "error", http.StatusInternalServerError)
			return
		}
		next, ok := login.SafeNext(r.FormValue("next"))
		if !ok {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.Handle("/account", lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "account of %s", lm.CurrentUser(r).ID())
	})))
	srv := httptest.NewServer(sm.Handler(lm.Handler(mux)))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, _ := c.Get(srv.URL + "/account")
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	res, _ = c.Post(srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader("next=//evil.example"))
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	res, _ = c.Get(srv.URL + "/account")
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output:
	// 302 /login?next=%2Faccount
	// 303 /
	// 200 account of 42
}

func ExampleSafeNext() {
	for _, next := range []string{"/orders?page=2#top", "//evil.example", "/%2F/evil.example", "https://evil.example", "/\\evil.example"} {
		fmt.Println(login.SafeNext(next))
	}
	// Output:
	// /orders?page=2#top true
	//  false
	//  false
	//  false
	//  false
}

func ExampleFlaskRememberValue() {
	key, _ := login.Latin1Key("login-secret-é") // Flask's SECRET_KEY
	v := login.FlaskRememberValue(key, "42")
	id, ok := login.ParseFlaskRemember(key, v)
	fmt.Println(v[:3], id, ok)
	// Output: 42| 42 true
}
