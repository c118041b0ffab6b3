// Package sessionlog tags log lines with the fingerprint of the request's
// session, so every line one session caused can be found with one grep —
// the structlog setup of Flask SaaS apps, for log/slog.
//
//	logger := slog.New(sessionlog.NewHandler(slog.NewJSONHandler(os.Stderr, nil), nil))
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		logger.InfoContext(r.Context(), "page viewed") // ... "session":"3f9c0a1b2c4d"
//	})
//	http.ListenAndServe(":8080", sm.Handler(mux))
//
// The fingerprint is [seshat.Session.Fingerprint]: 12 hex characters of an
// HMAC-SHA256, never the session id, the cookie or the user id. With a store
// it names the session (stable until Renew, different for every session); in
// cookie mode, which has no session id, it names the logged-in user and is
// absent for anonymous sessions. See Fingerprint for the details.
//
// A Flask app sharing the session can tag its own lines identically when
// both sides are given the same explicit key (Options.Key); in cookie mode:
//
//	fp = hmac.new(KEY, b"user\x00" + session["_user_id"].encode(), "sha256").hexdigest()[:12]
//
// The handler finds the session in the context of the log call, where
// [seshat.Manager.Handler] put it, so log with the *Context methods
// (InfoContext, ...) and the request's context. A logger wrapped around the
// seshat middleware (an access log outside sm.Handler) sees no session: put
// it inside. Computing a fingerprint never loads a session from the store nor
// marks it accessed; it costs two HMACs the first time in a request and a
// map lookup afterwards.
package sessionlog

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/seshat-go/seshat"
)

// DefaultAttrKey is the attribute the fingerprint goes under by default.
const DefaultAttrKey = "session"

// Options configure a Handler. The zero value is ready to use.
type Options struct {
	// Key is the HMAC key of the fingerprints. Nil (the default) derives one
	// from the session manager's newest signing key, so fingerprints change
	// when that key is rotated. Give 32 random bytes of your own to keep
	// them across key rotations or to match them between services.
	Key []byte
	// AttrKey names the attribute; default DefaultAttrKey ("session").
	AttrKey string
}

// Handler is a slog.Handler that adds the session fingerprint to every
// record whose context carries a session, and passes the record on.
// Records without a session (startup, background jobs) pass unchanged.
//
// The attribute is always at the top level of the line, also from a logger
// that opened groups with WithGroup, so one query finds every line of a
// session.
type Handler struct {
	next slog.Handler // the whole chain
	key  []byte
	attr string
	// After a group is opened, a top-level attribute can only be added
	// below it: root is next before the first group, and steps replay
	// what came after, for each fingerprint.
	root  slog.Handler
	steps []step
	last  *atomic.Pointer[built] // the chain built for the latest fingerprint
}

// step is one WithGroup (group != "") or WithAttrs after the first group.
type step struct {
	group string
	attrs []slog.Attr
}

type built struct {
	fp string
	h  slog.Handler
}

// NewHandler wraps next. opts may be nil.
func NewHandler(next slog.Handler, opts *Options) *Handler {
	h := &Handler{next: next, root: next, attr: DefaultAttrKey}
	if opts != nil {
		h.key = opts.Key
		if opts.AttrKey != "" {
			h.attr = opts.AttrKey
		}
	}
	return h
}

// Enabled reports whether next handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the fingerprint attribute and calls next.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	fp := Fingerprint(ctx, h.key)
	switch {
	case fp == "":
		return h.next.Handle(ctx, r)
	case len(h.steps) == 0:
		// Clone: the caller may hand copies of r to other handlers too.
		r = r.Clone()
		r.AddAttrs(slog.String(h.attr, fp))
		return h.next.Handle(ctx, r)
	}
	// Lines of one request share a fingerprint: build its chain once.
	if b := h.last.Load(); b != nil && b.fp == fp {
		return b.h.Handle(ctx, r)
	}
	c := h.root.WithAttrs([]slog.Attr{slog.String(h.attr, fp)})
	for _, st := range h.steps {
		if st.group != "" {
			c = c.WithGroup(st.group)
		} else {
			c = c.WithAttrs(st.attrs)
		}
	}
	h.last.Store(&built{fp: fp, h: c})
	return c.Handle(ctx, r)
}

// WithAttrs returns a Handler whose next handler has attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.next = h.next.WithAttrs(attrs)
	if len(h.steps) == 0 {
		h2.root = h2.next
	} else {
		h2.steps = append(slices.Clip(h.steps), step{attrs: attrs})
		h2.last = new(atomic.Pointer[built])
	}
	return &h2
}

// WithGroup returns a Handler whose next handler has the group open.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.next = h.next.WithGroup(name)
	h2.steps = append(slices.Clip(h.steps), step{group: name})
	h2.last = new(atomic.Pointer[built])
	return &h2
}

// Fingerprint returns the fingerprint of the session in ctx under key (nil
// derives one from the manager's keys), or "" when ctx carries no session or
// the session has nothing to name.
func Fingerprint(ctx context.Context, key []byte) string {
	if ctx == nil {
		return ""
	}
	s, err := seshat.Lookup(ctx)
	if err != nil {
		return ""
	}
	return s.Fingerprint(key)
}

// Attr returns the fingerprint of the session in ctx as an attribute under
// DefaultAttrKey, for loggers not wrapped by a Handler:
// logger.Info("msg", sessionlog.Attr(ctx)). It uses the derived key; with
// Options.Key, build the attribute from Fingerprint(ctx, key) instead.
// Without a fingerprint it is an empty attribute, which slog's handlers omit.
func Attr(ctx context.Context) slog.Attr {
	fp := Fingerprint(ctx, nil)
	if fp == "" {
		return slog.Attr{}
	}
	return slog.String(DefaultAttrKey, fp)
}
