package twofactor_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/login"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/twofactor"
)

// Example logs a user in with a password and then a TOTP code.
func Example() {
	load := func(_ context.Context, id string) (login.User, error) {
		if id == "42" {
			return user(id), nil
		}
		return nil, nil
	}
	store := memstore.New(memstore.Options{})
	defer store.Close()
	sm, _ := seshat.New(seshat.Config{
		Keys:   [][]byte{[]byte("an example key of at least 32 bytes!!")},
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
	})
	lm, _ := login.New(login.Config{LoadUser: load, Tokens: login.NewMemoryTokens(nil)})
	tf, err := twofactor.New(twofactor.Config{
		Issuer:   "Example",
		Store:    twofactor.NewMemoryStore(),
		Login:    lm,
		LoadUser: load,
	})
	if err != nil {
		panic(err)
	}

	// Enrolment, done once from the settings page: show e.PNG (the QR
	// code), then confirm with a first code from the app.
	e, _ := tf.Enroll(context.Background(), "42", "ann@example.com")
	first, _ := totp.GenerateCode(e.Secret, time.Now().Add(-30*time.Second))
	recovery, _ := tf.ConfirmEnrolment(context.Background(), "42", first)
	fmt.Println("recovery codes:", len(recovery))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// A real handler checks the password first.
		pending, err := tf.Begin(w, r, user("42"), false)
		if err != nil {
			http.Error(w, "error", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "pending:", pending)
	})
	mux.HandleFunc("POST /login/code", func(w http.ResponseWriter, r *http.Request) {
		_, err := tf.Complete(w, r, r.FormValue("code"))
		switch {
		case err == nil:
			fmt.Fprintln(w, "logged in")
		case errors.Is(err, twofactor.ErrInvalidCode), errors.Is(err, twofactor.ErrReplayed):
			http.Error(w, "wrong code, try again", http.StatusUnauthorized)
		default: // locked, expired or not pending: start again
			http.Error(w, "please log in again", http.StatusUnauthorized)
		}
	})
	mux.Handle("GET /account", lm.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "account of", lm.CurrentUser(r).ID())
	})))
	srv := httptest.NewServer(sm.Handler(lm.Handler(mux)))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	show := func(method, path string, form url.Values) {
		res, err := c.Do(mustRequest(method, srv.URL+path, form))
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Printf("%s %s: %d %s\n", method, path, res.StatusCode, strings.TrimSpace(string(body)))
	}
	show("POST", "/login", url.Values{})
	show("GET", "/account", nil) // pending: not logged in yet
	code, _ := totp.GenerateCode(e.Secret, time.Now())
	show("POST", "/login/code", url.Values{"code": {code}})
	show("POST", "/login/code", url.Values{"code": {code}}) // completed: nothing pending
	show("GET", "/account", nil)
	// Output:
	// recovery codes: 10
	// POST /login: 200 pending: true
	// GET /account: 401 Unauthorized
	// POST /login/code: 200 logged in
	// POST /login/code: 401 please log in again
	// GET /account: 200 account of 42
}

func mustRequest(method, u string, form url.Values) *http.Request {
	var r *http.Request
	var err error
	if form != nil {
		r, err = http.NewRequest(method, u, strings.NewReader(form.Encode()))
	} else {
		r, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		panic(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

// ExampleManager_Enroll shows an enrolment page: the QR code as a data
// URL (html/template needs the template.URL type to keep a data: URL in
// src) and the secret for typing in by hand.
func ExampleManager_Enroll() {
	lm, _ := login.New(login.Config{LoadUser: func(context.Context, string) (login.User, error) { return nil, nil }, Tokens: login.NewMemoryTokens(nil)})
	tf, _ := twofactor.New(twofactor.Config{Issuer: "Example", Store: twofactor.NewMemoryStore(), Login: lm,
		LoadUser: func(context.Context, string) (login.User, error) { return nil, nil }})
	e, err := tf.Enroll(context.Background(), "42", "ann@example.com")
	if err != nil {
		panic(err)
	}
	page := template.Must(template.New("").Parse(`<img src="{{.QR}}" alt="QR code"> <code>{{.Secret}}</code>`))
	var b strings.Builder
	_ = page.Execute(&b, map[string]any{
		"QR":     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.PNG)),
		"Secret": e.Secret,
	})
	fmt.Println(strings.HasPrefix(b.String(), `<img src="data:image/png;base64,iVBORw0KGgo`))
	fmt.Println(strings.TrimSuffix(e.URI, e.Secret))
	// Output:
	// true
	// otpauth://totp/Example:ann@example.com?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=
}
