package login

import (
	"bufio"
	"net"
	"net/http"
)

// writer runs before once, just before the response header goes out, so
// the remember cookie joins the header (Flask-Login's after_request).
type writer struct {
	http.ResponseWriter
	before func()
	done   bool
}

func (w *writer) hook() {
	if !w.done {
		w.done = true
		w.before()
	}
}

func (w *writer) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.hook()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	w.hook()
	return w.ResponseWriter.Write(p)
}

// Flush sends the header (with the cookie) and flushes.
func (w *writer) Flush() {
	_ = w.FlushError()
}

// FlushError is Flush that reports the underlying writer's error.
func (w *writer) FlushError() error {
	w.hook()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack runs the hook (its cookie can then no longer be sent) and hijacks.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hook()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
