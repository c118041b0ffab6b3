package seshat

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Handler returns middleware that gives every request a lazy session
// ([FromContext]) and saves it just before the response header goes out:
// on the handler's first WriteHeader, Write, ReadFrom or Flush, before a
// Hijack, or when the handler returns without writing. The response is never
// buffered. The writer handed to next keeps Flush, Hijack, ReadFrom and
// Unwrap, so http.ResponseController, streaming and websockets work.
//
// When the session cannot be saved (a cookie over MaxCookieSize), the
// handler's status and body are replaced by Config.ErrorHandler's response
// (500 by default). A handler that panics saves nothing.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := new(requestState)
		s := &rs.s
		m.initSession(s, r)
		rs.w = sessionWriter{ResponseWriter: w, m: m, s: s, r: r}
		rs.ctx = sessionContext{Context: r.Context(), s: s}
		next.ServeHTTP(&rs.w, r.WithContext(&rs.ctx))
		rs.w.commit()
	})
}

// requestState is what the middleware keeps for one request, allocated
// together: the session, the writer that saves it and the context that
// carries it. Nothing is pooled or reused: a handler may hand the Session
// (or the writer) to a goroutine that outlives the request, and the garbage
// collector keeps the whole block alive for it.
type requestState struct {
	s   Session
	w   sessionWriter
	ctx sessionContext
}

// sessionContext is context.WithValue(parent, ctxKey{}, s), built in place.
type sessionContext struct {
	context.Context
	s *Session
}

// Value returns the session for ctxKey{} and asks the parent otherwise.
func (c *sessionContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.s
	}
	return c.Context.Value(key)
}

// String describes the context like context.WithValue's does.
func (c *sessionContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(seshat.Session)"
}

// sessionWriter commits the session on the first byte of the response.
type sessionWriter struct {
	http.ResponseWriter
	m      *Manager
	s      *Session
	r      *http.Request
	done   bool
	failed bool
}

// commit saves the session once. It reports false when saving failed and
// the error response was written instead; the handler's output is then
// dropped.
func (w *sessionWriter) commit() bool {
	if w.done {
		return !w.failed
	}
	w.done = true
	if err := w.m.save(w.ResponseWriter.Header(), w.s); err != nil {
		w.failed = true
		w.m.settings.Logger.Error("seshat: session not saved", "err", err.Error())
		w.m.settings.ErrorHandler(w.ResponseWriter, w.r, err)
		return false
	}
	return true
}

func (w *sessionWriter) WriteHeader(code int) {
	// 1xx informational responses go out before the final header; the
	// session is saved with the final one.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.commit() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionWriter) Write(p []byte) (int, error) {
	if !w.commit() {
		return 0, errSaveFailed
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the sendfile fast path of the wrapped writer.
func (w *sessionWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.commit() {
		return 0, errSaveFailed
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// Flush commits the header and flushes, when the wrapped writer can.
func (w *sessionWriter) Flush() {
	if !w.commit() {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// FlushError is the error-returning Flush that http.ResponseController
// prefers.
func (w *sessionWriter) FlushError() error {
	if !w.commit() {
		return errSaveFailed
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack saves the session (its headers cannot be sent any more: the caller
// writes the raw response) and hands over the connection.
func (w *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
