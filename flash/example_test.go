package flash_test

import (
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/flash"
)

// A handler flashes a message and redirects; the next page shows it once,
// escaped by html/template.
func Example() {
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("example-secret-key-0123456789abcdef")}})
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Parse(
		`{{range .}}<p class="{{.Category}}">{{.Text}}</p>{{else}}<p>nothing</p>{{end}}` + "\n"))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := seshat.FromContext(r.Context())
		if err := flash.Add(s, "error", "<b>Card</b> declined"); err != nil {
			http.Error(w, "server error", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		page.Execute(w, flash.Messages(r)) // pops the flashes, once per request
	})
	srv := httptest.NewServer(sm.Handler(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for range 2 {
		resp, err := client.Post(srv.URL+"/cart", "", nil) // follows the redirect
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(os.Stdout, resp.Body)
		resp.Body.Close()
	}
	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(os.Stdout, resp.Body)
	resp.Body.Close()
	fmt.Println("done")
	// Output:
	// <p class="error">&lt;b&gt;Card&lt;/b&gt; declined</p>
	// <p class="error">&lt;b&gt;Card&lt;/b&gt; declined</p>
	// <p>nothing</p>
	// done
}
