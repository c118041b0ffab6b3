package sessionlog_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/sessionlog"
)

// BenchmarkLogLine compares one log line through a JSON handler with and
// without the fingerprint, in store mode with the fingerprint cached (every
// line after a request's first).
func BenchmarkLogLine(b *testing.B) {
	store := memstore.New(memstore.Options{})
	sm, err := seshat.New(seshat.Config{Keys: [][]byte{testKey}, Store: store})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	sm.Handler(setHandler{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", rec.Header().Get("Set-Cookie"))
	s, err := sm.Load(context.Background(), r)
	if err != nil {
		b.Fatal(err)
	}
	ctx := seshat.NewContext(context.Background(), s)
	if s.Fingerprint(nil) == "" {
		b.Fatal("no fingerprint")
	}
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"plain", slog.NewJSONHandler(io.Discard, nil)},
		{"sessionlog", sessionlog.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil)},
		{"sessionlog-grouped", sessionlog.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil).WithGroup("req")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			logger := slog.New(bc.h)
			b.ReportAllocs()
			for b.Loop() {
				logger.InfoContext(ctx, "page", "path", "/cart")
			}
		})
	}
	// The first fingerprint of a request is computed, not cached: the
	// cookie's signature is checked and two HMACs are made (no store call).
	// Compare a request that only passes the middleware with one that asks
	// for the fingerprint.
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"request-untouched", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})},
		{"request-fingerprint", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sessionlog.Fingerprint(r.Context(), nil)
		})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := sm.Handler(bc.h)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(discardWriter{}, r)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

type setHandler struct{}

func (setHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	seshat.FromContext(r.Context()).Set("user", "alice")
}
