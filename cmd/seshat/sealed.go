package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/seshat-go/seshat"
)

// verifySealed opens a cookie sealed by a Manager with Config.EncryptCookie.
// The seal's format is internal to seshat, so the command goes through a
// Manager configured like the one that sealed it, loading the value as a
// request's cookie would be: the reasons come from the same sentinels as a
// signed cookie's.
func verifySealed(c *cli, cmd *command, ko *keyOptions, name string, maxAge int64, now unixFlag, arg string) int {
	if maxAge == 0 {
		// A Manager's zero Lifetime means the default; refuse rather
		// than silently check something else.
		return usageError(c, cmd, "--max-age must be at least 1 with --sealed")
	}
	keys, err := ko.resolve(c.env)
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	at := now.orNow()
	m, err := seshat.New(seshat.Config{
		Keys:          keys,
		AllowWeakKeys: true, // checking a cookie, not choosing keys
		EncryptCookie: true,
		Cookie:        seshat.CookieOptions{Name: name},
		Lifetime:      time.Duration(maxAge) * time.Second,
		Now:           func() time.Time { return at },
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		// New's errors describe the configuration, never a key.
		return usageError(c, cmd, "%v", err)
	}
	value, err := readValue(c, arg)
	if err != nil {
		return usageError(c, cmd, "%v", err)
	}
	if value == "" {
		return fail(c, cmd, reasonBadSignature)
	}
	r := &http.Request{Header: http.Header{"Cookie": {m.CookieName() + "=" + value}}}
	s, err := m.Load(context.Background(), r)
	if err != nil {
		return fail(c, cmd, reasonMalformed)
	}
	if err := s.LoadError(); err != nil {
		return fail(c, cmd, verifyReason(err))
	}
	if s.IsNew() {
		// No cookie was read at all (a value with ';' or ' ' in it).
		return fail(c, cmd, reasonBadSignature)
	}
	return printSession(c, cmd, s.Values())
}
