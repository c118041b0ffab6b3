// Command websocket shows a websocket sharing the session of the pages
// around it, the way Flask-SocketIO shares Flask's session: the page counts
// clicks made over HTTP, the socket counts clicks made over the socket, and
// each sees the other's live, because both are saved into one stored
// session key by key.
//
//	go run ./examples/websocket                          # in-memory store
//	go run ./examples/websocket -redis 127.0.0.1:6379    # Redis
//
// Every log line carries the session's fingerprint (package sessionlog), the
// same for the page's requests and for the socket.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/redisstore"
	"github.com/seshat-go/seshat/sessionlog"
)

//go:embed page.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	redisAddr := flag.String("redis", "", "Redis address; default: an in-memory store")
	flag.Parse()

	var store seshat.Store = memstore.New(memstore.Options{})
	if *redisAddr != "" {
		store = redisstore.New(redis.NewClient(&redis.Options{Addr: *redisAddr}), redisstore.Options{Prefix: "seshat-ws-example:"})
	}
	key := []byte(os.Getenv("SECRET_KEY"))
	if len(key) == 0 {
		key = []byte(rand.Text() + rand.Text()) // sessions end with the process
	}
	logger := slog.New(sessionlog.NewHandler(slog.NewTextHandler(os.Stderr, nil), nil))
	sm, err := seshat.New(seshat.Config{
		Keys:   [][]byte{key},
		Store:  store,
		Logger: logger,
		Cookie: seshat.CookieOptions{Secure: seshat.SecureNever}, // plain-HTTP demo
	})
	if err != nil {
		log.Fatal(err)
	}
	logger.Info("listening", "url", "http://"+*addr)
	log.Fatal(http.ListenAndServe(*addr, sm.Handler(newApp(sm, logger, time.Second))))
}

// app serves the page, its HTTP clicks, and the socket.
type app struct {
	sm   *seshat.Manager
	log  *slog.Logger
	poll time.Duration // how often a socket looks for changes made over HTTP
}

func newApp(sm *seshat.Manager, logger *slog.Logger, poll time.Duration) http.Handler {
	a := &app{sm: sm, log: logger, poll: poll}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /values", a.values)
	mux.HandleFunc("POST /click", a.click)
	mux.HandleFunc("POST /note", a.note)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /ws", a.socket)
	// The POSTs are refused from other origins (the socket checks its own).
	return http.NewCrossOriginProtection().Handler(mux)
}

// index creates the session (the socket can only share a session that has
// a record and a cookie) and serves the page.
func (a *app) index(w http.ResponseWriter, r *http.Request) {
	s := seshat.FromContext(r.Context())
	s.Set("visits", seshat.GetOr(s, "visits", 0)+1)
	a.log.InfoContext(r.Context(), "page")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

func (a *app) values(w http.ResponseWriter, r *http.Request) {
	writeValues(w, seshat.FromContext(r.Context()))
}

func (a *app) click(w http.ResponseWriter, r *http.Request) {
	s := seshat.FromContext(r.Context())
	s.Set("page_clicks", seshat.GetOr(s, "page_clicks", 0)+1)
	a.log.InfoContext(r.Context(), "click", "via", "http")
	writeValues(w, s)
}

func (a *app) note(w http.ResponseWriter, r *http.Request) {
	s := seshat.FromContext(r.Context())
	s.Set("note", r.FormValue("text"))
	writeValues(w, s)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	seshat.FromContext(r.Context()).Destroy()
	a.log.InfoContext(r.Context(), "logout")
}

func writeValues(w http.ResponseWriter, s *seshat.Session) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(message{Values: public(s.Values())})
}

// message is what the socket sends: the session's values, or why it ends.
type message struct {
	Values map[string]any `json:"values,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// command is what the page sends over the socket.
type command struct {
	Op string `json:"op"` // "click" or "refresh"
}

// socket detaches the session at the handshake and serves the connection:
// clicks sent over the socket are saved into the session, and changes made
// by the page's requests are pushed back.
func (a *app) socket(w http.ResponseWriter, r *http.Request) {
	d, err := a.sm.Detach(r.Context(), r)
	if err != nil {
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		return
	}
	if d.IsNew() {
		http.Error(w, "no session: load the page first", http.StatusUnauthorized)
		return
	}
	// Accept checks Origin against Host: another site's page cannot open a
	// socket that rides on this site's session cookie.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	// r's context lasts until this handler returns, which a hijacked
	// connection's handler does only when the connection ends. With the
	// Detached session in it, log lines carry the session's fingerprint.
	ctx, cancel := context.WithCancel(seshat.NewContext(r.Context(), d.Session))
	defer cancel()
	a.log.InfoContext(ctx, "socket open")
	defer a.log.InfoContext(ctx, "socket closed")

	var mu sync.Mutex // one writer at a time decides what was sent last
	last := ""
	send := func(force bool) error {
		mu.Lock()
		defer mu.Unlock()
		m := message{Values: public(d.Values())}
		b, _ := json.Marshal(m)
		if !force && string(b) == last {
			return nil
		}
		last = string(b)
		return wsjson.Write(ctx, conn, m)
	}
	// end closes the socket when the session is over (logged out or
	// revoked elsewhere) or the store fails.
	end := func(err error) {
		a.log.InfoContext(ctx, "socket: session ended", "reason", err.Error())
		wsjson.Write(ctx, conn, message{Error: "session ended"})
		conn.Close(websocket.StatusPolicyViolation, "session ended")
		cancel()
	}
	go func() { // push what the page's requests change
		t := time.NewTicker(a.poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := d.Reload(ctx); err != nil {
				end(err)
				return
			}
			send(false)
		}
	}()
	if err := send(true); err != nil {
		return
	}
	for {
		var cmd command
		if err := wsjson.Read(ctx, conn, &cmd); err != nil {
			return
		}
		switch cmd.Op {
		case "click":
			// The socket is the only writer of ws_clicks, so its copy's
			// value is current; Save writes only this key.
			d.Set("ws_clicks", seshat.GetOr(d.Session, "ws_clicks", 0)+1)
			if err := d.Save(ctx); err != nil {
				end(err)
				return
			}
			a.log.InfoContext(ctx, "click", "via", "socket")
		case "refresh":
			if err := d.Reload(ctx); err != nil {
				end(err)
				return
			}
		}
		if err := send(true); err != nil {
			return
		}
	}
}

// public drops Flask's and seshat's own bookkeeping keys.
func public(values map[string]any) map[string]any {
	for k := range values {
		if strings.HasPrefix(k, "_") {
			delete(values, k)
		}
	}
	return values
}
