// Package flash is Flask's message flashing on a [seshat.Session]: a handler
// records a message for the next page the user sees, which reads and removes
// it. Messages are stored exactly as Flask stores them, as the list of
// (category, message) tuples under the session key "_flashes", so a Flask
// app sharing the session (same secret key, same cookie) shows messages
// flashed in Go and the other way round.
//
// # Writing and reading
//
//	flash.Add(s, "error", "Card declined")    // flask.flash("Card declined", "error")
//	msgs := flash.Pop(s)                      // flask.get_flashed_messages(with_categories=True)
//	errs := flash.Pop(s, "error")             // ... category_filter=["error"]
//
// Like Flask's get_flashed_messages, the first read removes the whole list
// from the session, even when a category filter selects only some of the
// messages: the filter applies to the returned list only. If "_flashes" was
// the session's only key, the session becomes empty and the response deletes
// the cookie.
//
// # Reading twice in one request
//
// Flask caches the popped list for the rest of the request, so a layout and
// a page body can both call get_flashed_messages; so does Pop, in the
// Session's request-scoped locals ([seshat.Session.Local]). Messages flashed
// after the first Pop stay in the session for a later request, as in Flask.
// [Messages] is Pop on the request's session, for templates.
//
//	all := flash.Messages(r)
//	errs := flash.Messages(r, "error") // same request: from the cache
//
// # Escaping
//
// A message is data, not HTML: render Text through html/template, which
// escapes it. Only a message flashed with [AddMarkup] (Flask's Markup, stored
// as {" m": ...}) is meant as HTML; its Message.Markup is true, and a
// template may mark it safe with template.HTML. Never pass user input to
// AddMarkup.
//
// # Concurrency
//
// Pop removes the messages with [seshat.Session.Take]: with a store that
// implements [seshat.Taker] (memstore, redisstore, pgstore, sqlitestore,
// mysqlstore; filestore within one process) the list is taken from the
// stored record atomically, so of two requests sent at once with the same
// cookie exactly one shows the messages; a store failure leaves them
// stored for a later request. With cookie sessions each request carries
// its own copy, so, as in Flask, a message can show twice when a browser
// sends two requests at once. Add reads and rewrites the list: an Add
// racing a Pop of the same session may bring back a message already shown;
// calls on one Session from several goroutines at once may lose a message.
package flash

import (
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

// Key is the session key under which Flask keeps flashed messages.
const Key = "_flashes"

// DefaultCategory is Flask's category when none is given.
const DefaultCategory = "message"

// Message is one flashed message.
type Message struct {
	// Category is the message's category ("message", "error", "info"...).
	Category string
	// Text is the message. It is HTML only when Markup is true.
	Text string
	// Markup reports that the message was flashed as Flask's Markup (HTML
	// that must not be escaped again), with [AddMarkup] or Markup(...) in
	// Python.
	Markup bool
}

// Add flashes message under category for a later request, as Flask's
// flash(message, category) does; an empty category means
// [DefaultCategory]. The message is plain text (escaped when rendered). It
// returns the error of [seshat.Session.Set], for instance
// seshat.ErrHeadersWritten when the response header is already out.
func Add(s *seshat.Session, category, message string) error {
	return add(s, category, message)
}

// AddMarkup flashes html as Flask's Markup: a message that templates show
// without escaping. Use it only for HTML you built from trusted parts.
func AddMarkup(s *seshat.Session, category string, html taggedjson.Markup) error {
	return add(s, category, html)
}

func add(s *seshat.Session, category string, message any) error {
	if category == "" {
		category = DefaultCategory
	}
	old, _ := s.Get(Key)
	list, _ := old.([]any) // anything else there is not Flask's: start again
	// A new slice, so the value the session still holds is never changed in
	// place before Set records the change.
	next := make([]any, len(list), len(list)+1)
	copy(next, list)
	next = append(next, taggedjson.Tuple{category, message})
	return s.Set(Key, next)
}

// Pop is Flask's get_flashed_messages: the first call in a request removes
// every flashed message from the session and keeps them for the rest of the
// request; every call returns them, oldest first, only those of categories
// when some are given (all are removed regardless). It returns nil when there
// are none. Pop marks the session accessed (Vary: Cookie), as Flask 3.1 does.
func Pop(s *seshat.Session, categories ...string) []Message {
	c, _ := s.Local(cacheKey{}).(*cache)
	if c == nil {
		c = new(cache)
		s.SetLocal(cacheKey{}, c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.popped {
		// A failed Take leaves the messages in the store for a later
		// request; this one shows none.
		if v, ok, err := s.Take(Key); ok && err == nil {
			c.msgs = decode(v)
		}
		c.popped = true
	}
	if len(c.msgs) == 0 {
		return nil
	}
	return filter(slices.Clone(c.msgs), categories)
}

// Peek returns the flashed messages without removing them, optionally only
// those of categories.
func Peek(s *seshat.Session, categories ...string) []Message {
	v, _ := s.Get(Key)
	return filter(decode(v), categories)
}

// decode reads Flask's list of (category, message) pairs. Python allows any
// object as either; non-strings are shown as Python's str() would show the
// common ones. Entries that are not pairs are skipped (Flask would fail on
// them).
func decode(v any) []Message {
	list, _ := v.([]any)
	out := make([]Message, 0, len(list))
	for _, e := range list {
		var pair []any
		switch p := e.(type) {
		case taggedjson.Tuple:
			pair = p
		case []any:
			pair = p
		}
		if len(pair) != 2 {
			continue
		}
		cat, _ := pyStr(pair[0])
		text, markup := pyStr(pair[1])
		out = append(out, Message{Category: cat, Text: text, Markup: markup})
	}
	return out
}

// pyStr renders a model value as Python's str() does for the scalar types;
// it reports whether the value was Markup.
func pyStr(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, false
	case taggedjson.Markup:
		return string(x), true
	case nil:
		return "None", false
	case bool:
		if x {
			return "True", false
		}
		return "False", false
	case int64:
		return strconv.FormatInt(x, 10), false
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), false
	}
	return "", false
}

func filter(msgs []Message, categories []string) []Message {
	if len(categories) > 0 {
		msgs = slices.DeleteFunc(msgs, func(m Message) bool { return !slices.Contains(categories, m.Category) })
	}
	if len(msgs) == 0 {
		return nil
	}
	return msgs
}

// cacheKey keys a request's popped messages in the Session's locals.
type cacheKey struct{}

// cache is one request's popped messages.
type cache struct {
	mu     sync.Mutex
	popped bool
	msgs   []Message
}

// Messages is [Pop] on the request's session (seshat.FromContext, which
// panics naming the session middleware when there is none), for templates
// and layouts.
func Messages(r *http.Request, categories ...string) []Message {
	return Pop(seshat.FromContext(r.Context()), categories...)
}
