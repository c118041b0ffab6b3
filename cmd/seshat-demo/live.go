package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/seshat-go/seshat"
)

// routesLive registers the websocket page and its socket.
func (a *app) routesLive(mux *http.ServeMux) {
	mux.Handle("GET /live", a.lm.Required(http.HandlerFunc(a.livePage)))
	mux.HandleFunc("GET /live/ws", a.liveSocket)
}

// liveValues is what the page and the socket show of the session.
type liveValues struct {
	User   string `json:"user"`
	Theme  string `json:"theme"`
	Visits int64  `json:"visits"`
	Bumps  int64  `json:"live_bumps"`
}

func readLive(s *seshat.Session, email string) liveValues {
	return liveValues{
		User:   email,
		Theme:  theme(s),
		Visits: seshat.GetOr(s, keyVisits, int64(0)),
		Bumps:  seshat.GetOr(s, keyBumps, int64(0)),
	}
}

// liveData is the data of the live page.
type liveData struct {
	Values     liveValues
	CookieMode bool
}

func (a *app) livePage(w http.ResponseWriter, r *http.Request) {
	s := seshat.FromContext(r.Context())
	v := readLive(s, a.currentUser(r).Email)
	v.Visits++ // render counts this view
	a.render(w, r, http.StatusOK, "live", "Live", liveData{Values: v, CookieMode: a.store == nil})
}

// liveMessage is one message of the socket: the values, or why it ends.
type liveMessage struct {
	Values *liveValues `json:"values,omitempty"`
	Note   string      `json:"note,omitempty"`
	Error  string      `json:"error,omitempty"`
	// Retry tells the page to open a new socket once: the session it had
	// may live on under a new id (a login, a password change in another
	// tab), which only a new handshake, carrying the browser's new cookie,
	// can reach. A session really logged out fails that handshake with 401.
	Retry bool `json:"retry,omitempty"`
}

// liveSocket serves /live/ws. The session is detached at the handshake
// (seshat.Manager.Detach): the connection's goroutines then read and write
// the same stored session as the browser's ordinary requests, merged key
// by key, so neither side loses the other's changes.
func (a *app) liveSocket(w http.ResponseWriter, r *http.Request) {
	u := a.currentUser(r)
	if u == nil {
		http.Error(w, "log in first", http.StatusUnauthorized)
		return
	}
	d, err := a.sm.Detach(r.Context(), r)
	if err != nil {
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		return
	}
	// Accept checks Origin against Host: another site's page cannot open a
	// socket riding on this site's session cookie.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	// With the detached session in the context, log lines carry its
	// fingerprint, like the page's requests.
	ctx, cancel := context.WithCancel(seshat.NewContext(r.Context(), d.Session))
	defer cancel()
	a.log.InfoContext(ctx, "live socket open")
	defer a.log.InfoContext(ctx, "live socket closed")

	var mu sync.Mutex // one writer at a time; last is what was sent last
	var last liveValues
	send := func(force bool, note string) error {
		mu.Lock()
		defer mu.Unlock()
		v := readLive(d.Session, u.Email)
		if !force && v == last {
			return nil
		}
		last = v
		return wsjson.Write(ctx, conn, liveMessage{Values: &v, Note: note})
	}
	end := func(reason string, err error) {
		a.log.InfoContext(ctx, "live socket: session over", "err", err)
		wsjson.Write(ctx, conn, liveMessage{Error: reason, Retry: errors.Is(err, seshat.ErrSessionGone)})
		conn.Close(websocket.StatusPolicyViolation, "session ended")
		cancel()
	}
	go func() {
		t := time.NewTicker(a.cfg.LivePoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := d.Reload(ctx); err != nil {
				end(endReason(err), err)
				return
			}
			if seshat.GetOr(d.Session, "_user_id", "") != u.ID() {
				end("You logged out in another tab.", errors.New("user changed"))
				return
			}
			if err := send(false, ""); err != nil {
				cancel()
				return
			}
		}
	}()
	if err := send(true, ""); err != nil {
		return
	}
	for {
		var cmd struct {
			Op string `json:"op"`
		}
		if err := wsjson.Read(ctx, conn, &cmd); err != nil {
			return
		}
		if cmd.Op != "bump" {
			continue
		}
		// Reload first: the session may have moved to a new id (renewal)
		// since the last poll. The socket is the only writer of
		// live_bumps, so its copy is then current; Save merges just this
		// key into the stored session.
		if err := d.Reload(ctx); err != nil {
			end(endReason(err), err)
			return
		}
		if err := d.Set(keyBumps, seshat.GetOr(d.Session, keyBumps, int64(0))+1); err != nil {
			end("The session cannot be changed.", err)
			return
		}
		note := ""
		switch err := d.Save(ctx); {
		case errors.Is(err, seshat.ErrNoCookieAfterUpgrade):
			note = "Cookie mode: the change lives in this socket's copy only; a reload will not show it."
		case err != nil:
			end(endReason(err), err)
			return
		}
		a.log.InfoContext(ctx, "live bump")
		if err := send(true, note); err != nil {
			return
		}
	}
}

// endReason tells the page why its socket closed.
func endReason(err error) string {
	switch {
	case errors.Is(err, seshat.ErrSessionGone):
		return "This session was logged out, revoked or renewed."
	case errors.Is(err, seshat.ErrStoreUnavailable):
		return "The session store is not answering."
	}
	return "The session ended."
}
