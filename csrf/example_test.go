package csrf_test

import (
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/csrf"
)

// A form rendered with its token posts back; a post without the token, or
// from another site, is refused with Flask-WTF's reason.
func Example() {
	keys := [][]byte{[]byte("example-secret-key-0123456789abcdef")} // Flask's SECRET_KEY
	sm, err := seshat.New(seshat.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	protector, err := csrf.New(keys, csrf.Options{ExemptPaths: []string{"/webhook"}})
	if err != nil {
		log.Fatal(err)
	}
	form := template.Must(template.New("form").Parse(
		`<form method="post"><input type="hidden" name="csrf_token" value="{{.}}"><button>Save</button></form>`))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		token, err := csrf.Token(r)
		if err != nil {
			http.Error(w, "server error", http.StatusInternalServerError)
			return
		}
		form.Execute(w, token)
	})
	mux.HandleFunc("POST /profile", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "saved")
	})
	srv := httptest.NewServer(sm.Handler(protector.Protect(mux)))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(srv.URL + "/profile")
	if err != nil {
		log.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`value="([^"]+)"`).FindStringSubmatch(string(page))[1]

	post := func(values url.Values, header http.Header) {
		req, _ := http.NewRequest("POST", srv.URL+"/profile", strings.NewReader(values.Encode()))
		req.Header = header
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	post(url.Values{"csrf_token": {token}}, http.Header{})
	post(url.Values{"name": {"x"}}, http.Header{})
	post(url.Values{"csrf_token": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	// Output:
	// 200 saved
	// 403 Forbidden: The CSRF token is missing.
	// 403 Forbidden: The request's origin is not allowed.
}
