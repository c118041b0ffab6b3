package sessionlog_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/sessionlog"
)

// Every line logged with the request's context carries the session's
// fingerprint. This example runs in cookie mode with a fixed key, where the
// fingerprint names the logged-in user, so its output is stable; with a
// Store it names the session.
func ExampleNewHandler() {
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{[]byte("a-long-random-key-from-your-secret-store")}})
	if err != nil {
		panic(err)
	}
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(sessionlog.NewHandler(
		slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}),
		&sessionlog.Options{Key: []byte("fingerprint-key-from-your-secret-store")},
	))

	h := sm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "anonymous visitor") // no fingerprint yet
		s := seshat.FromContext(r.Context())
		s.Set("_user_id", "42") // what login.LoginUser stores
		logger.InfoContext(r.Context(), "logged in", "method", "password")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/login", nil))
	// Output:
	// level=INFO msg="anonymous visitor"
	// level=INFO msg="logged in" method=password session=ea33cf649e95
}
