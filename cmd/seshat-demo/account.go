package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
	"github.com/seshat-go/seshat/twofactor"
)

// settingsData is the settings page's.
type settingsData struct {
	TwoFactor twofactor.Status
}

func (a *app) settings(w http.ResponseWriter, r *http.Request) {
	a.renderSettings(w, r, http.StatusOK)
}

func (a *app) renderSettings(w http.ResponseWriter, r *http.Request, status int) {
	st, err := a.tf.Status(r.Context(), a.currentUser(r).ID())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "settings", "Settings", settingsData{TwoFactor: st})
}

// changePassword checks the current password, stores the new one, renews
// this session and revokes every other one: whoever else knew the old
// password is logged out.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	u := a.currentUser(r)
	cur, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	ok, err := checkPassword(cur, u.passwordHash)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	switch {
	case !ok:
		a.flash(r, "error", "Your current password is not that.")
	case passwordProblem(next) != "":
		a.flash(r, "error", passwordProblem(next))
	default:
		a.endOthers(w, r, u, hashPassword(next, a.cfg.Argon), "Password changed", "/settings")
		return
	}
	a.renderSettings(w, r, http.StatusUnprocessableEntity)
}

// sessionRow is one line of the sessions page.
type sessionRow struct {
	key     string // the store key, never rendered
	Handle  string // keyed hash of the store key: safe to put in a form
	Current bool
	Login   loginInfo
	Since   time.Time
	Expires time.Time
}

// sessionsData is the sessions page's.
type sessionsData struct {
	Listable bool // the store keeps a per-user index
	Rows     []sessionRow
}

func (a *app) sessions(w http.ResponseWriter, r *http.Request) {
	d := sessionsData{}
	ui, listable := a.store.(seshat.UserIndex)
	d.Listable = listable
	s := seshat.FromContext(r.Context())
	mine, _ := seshat.Get[loginInfo](s, keyLogin)
	if !listable {
		// Cookie mode: the only session the server can see is this one.
		d.Rows = []sessionRow{{Current: true, Login: mine, Since: time.Unix(mine.At, 0)}}
		a.render(w, r, http.StatusOK, "sessions", "Your sessions", d)
		return
	}
	rows, err := a.userSessions(r.Context(), ui, a.currentUser(r).ID(), mine.Tag)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Rows = rows
	a.render(w, r, http.StatusOK, "sessions", "Your sessions", d)
}

// userSessions lists the user's live sessions through the store's user
// index, newest login first, reading each record for its loginInfo.
func (a *app) userSessions(ctx context.Context, ui seshat.UserIndex, userID, currentTag string) ([]sessionRow, error) {
	infos, err := ui.ListByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var rows []sessionRow
	for _, in := range infos {
		rec, err := a.store.Load(ctx, in.Key)
		if errors.Is(err, seshat.ErrNoRecord) {
			continue // ended between the two reads
		}
		if err != nil {
			return nil, fmt.Errorf("load session: %w", err)
		}
		var li loginInfo
		raw, ok := rec.Values[keyLogin]
		if !ok {
			// Every login records keyLogin; a record without it is an id
			// retired by a renewal, kept a few seconds to forward
			// requests still carrying it to the session's new id.
			continue
		}
		if v, err := taggedjson.Unmarshal(raw); err == nil {
			taggedjson.Convert(v, &li)
		}
		rows = append(rows, sessionRow{
			key:     in.Key,
			Handle:  a.handle(in.Key),
			Current: li.Tag != "" && li.Tag == currentTag,
			Login:   li,
			Since:   time.Unix(li.At, 0),
			Expires: in.Expires,
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Current != rows[j].Current {
			return rows[i].Current
		}
		return rows[i].Login.At > rows[j].Login.At
	})
	return rows, nil
}

// handle is what a revoke form carries for a session: an HMAC of its store
// key, so the page never shows even the store key (a hash of the id).
func (a *app) handle(storeKey string) string {
	m := hmac.New(sha256.New, a.handleKey)
	m.Write([]byte(storeKey))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// revokeSession ends one of the user's other sessions. The handle is
// matched against the user's own sessions only, so nobody can end a
// stranger's session by guessing.
func (a *app) revokeSession(w http.ResponseWriter, r *http.Request) {
	ui, ok := a.store.(seshat.UserIndex)
	if !ok {
		a.flash(r, "error", "Signed-cookie sessions live in the browser: use “Log out everywhere”.")
		redirect(w, r, "/sessions")
		return
	}
	u := a.currentUser(r)
	mine, _ := seshat.Get[loginInfo](seshat.FromContext(r.Context()), keyLogin)
	rows, err := a.userSessions(r.Context(), ui, u.ID(), mine.Tag)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	want := []byte(r.PostFormValue("handle"))
	i := slices.IndexFunc(rows, func(row sessionRow) bool { return hmac.Equal([]byte(row.Handle), want) })
	switch {
	case i < 0:
		a.flash(r, "error", "That session has already ended.")
	case rows[i].Current:
		a.flash(r, "error", "That is this session: use “Log out” instead.")
	default:
		if err := a.store.Delete(r.Context(), rows[i].key); err != nil {
			a.serverError(w, r, err)
			return
		}
		a.log.InfoContext(r.Context(), "session revoked", "user", u.ID())
		a.flash(r, "success", "Session revoked: that browser is signed out.")
	}
	redirect(w, r, "/sessions")
}

// revokeAll is "log out everywhere": every other session and remember token
// of the user ends; this one is renewed.
func (a *app) revokeAll(w http.ResponseWriter, r *http.Request) {
	a.endOthers(w, r, a.currentUser(r), "", "Logged out everywhere else", "/sessions")
}
