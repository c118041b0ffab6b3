package seshat

import (
	"bytes"
	"crypto/subtle"
	"maps"
	"math/big"
	"sync"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// A payloadCache remembers the sessions parsed out of recently seen cookie
// payloads, so that a client sending the same cookie again costs a map copy
// instead of an HMAC, a base64 decode and a tagged-JSON parse: in a
// Flask-format cookie the session changes far less often than it is read.
//
// It never lets an unverified cookie through. A payload is cached only once
// a cookie carrying it passed verification (HMAC, timestamp, age), and each
// entry keeps that cookie's exact bytes. A later cookie is served from the
// entry without a new HMAC only when it is byte for byte that cookie
// (compared in constant time), since HMAC verification is a function of the
// bytes and of the Manager's keys, which never change; its age is checked
// again every time. Any other cookie, such as the same payload under another
// signature or timestamp, is verified in full before the entry's session is
// used. So a key rotation (a new Manager) needs no flush.
//
// The entry is looked up by the payload before verification (the payload is
// no secret: anyone holding the cookie can read it). So the timing of a
// request with a bad signature can tell whether a cookie with exactly that
// payload was seen recently, which an attacker can use only by guessing a
// whole payload, random CSRF token included; and such a lookup keeps an
// existing entry in the current generation, which changes only what is
// evicted. Keeping recent cookies in memory exposes nothing new: the keys
// that sign them are in the same memory.
//
// Two generations bound it: entries go into cur; when cur is full it becomes
// old and a new cur starts, so a payload read at least once per generation
// stays cached, and there are never more than 2×limit entries, each holding
// at most maxCachedPayload bytes of JSON (parsed) and the cookie it came in.
type payloadCache struct {
	mu    sync.Mutex
	limit int
	cur   map[string]*cachedSession
	old   map[string]*cachedSession
}

// maxCachedPayload is the largest decoded payload (JSON bytes) cached: a
// typical Flask session (user id, CSRF token, a few flags) is a few hundred
// bytes; larger ones are parsed every time rather than pinned in memory.
const maxCachedPayload = 2048

// DefaultParsedCookies is Config.ParsedCookies's default: a generation of
// 512 sessions of a few hundred bytes takes a few hundred KiB.
const DefaultParsedCookies = 512

// cachedSession is one parsed payload. values is shared by every request
// that hits it and is never changed nor handed out: each hit gets a copy, in
// which the values listed in mutable are copied deeply.
type cachedSession struct {
	values  map[string]any
	mutable []string
	// signed is the last cookie value carrying this payload that passed
	// verification, signed at signedAt.
	signed   []byte
	signedAt time.Time
}

// sameCookie reports whether v is byte for byte the cookie value verified
// last for this entry, in constant time: v's signature is secret until
// proven right, and the comparison must not tell how much of it is.
// Verification is a function of the value and the keys alone, and a
// Manager's keys never change, so the same bytes would verify again.
func (e *cachedSession) sameCookie(v []byte) bool {
	return subtle.ConstantTimeCompare(e.signed, v) == 1
}

// newPayloadCache returns a cache of limit entries per generation:
// DefaultParsedCookies for 0, none (nil) for a negative limit.
func newPayloadCache(limit int) *payloadCache {
	if limit == 0 {
		limit = DefaultParsedCookies
	}
	if limit < 0 {
		return nil
	}
	return &payloadCache{limit: limit, cur: make(map[string]*cachedSession)}
}

// lookup returns the entry for a payload (body, as signed), or nil.
func (c *payloadCache) lookup(body []byte) *cachedSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[string(body)]
	if !ok {
		if e, ok = c.old[string(body)]; ok {
			c.insert(string(body), e) // still in use: keep it a generation more
		}
	}
	return e
}

// put records the session parsed from body, as verified in the cookie value
// signed at signedAt. It keeps a deep copy of values (the caller's map goes
// on to be the request's session).
func (c *payloadCache) put(body []byte, payloadLen int, values map[string]any, signed []byte, signedAt time.Time) {
	if payloadLen > maxCachedPayload {
		return
	}
	e := &cachedSession{values: make(map[string]any, len(values))}
	for k, v := range values {
		if cv, deep := cloneValue(v); deep {
			e.mutable = append(e.mutable, k)
			v = cv
		}
		e.values[k] = v
	}
	c.verified(body, e, signed, signedAt)
}

// verified records that signed, a cookie value carrying e's payload, was
// verified and signed at signedAt: the next request that sends exactly these
// bytes needs no new HMAC. Entries never change (requests read them without
// the lock), so this stores a new one sharing e's values.
func (c *payloadCache) verified(body []byte, e *cachedSession, signed []byte, signedAt time.Time) {
	n := &cachedSession{values: e.values, mutable: e.mutable, signed: bytes.Clone(signed), signedAt: signedAt}
	key := string(body)
	c.mu.Lock()
	c.insert(key, n)
	c.mu.Unlock()
}

// insert adds e under key, starting a new generation when cur is full.
func (c *payloadCache) insert(key string, e *cachedSession) {
	if len(c.cur) >= c.limit {
		c.old, c.cur = c.cur, make(map[string]*cachedSession, c.limit)
	}
	c.cur[key] = e
}

func (e *cachedSession) copy() map[string]any {
	m := maps.Clone(e.values)
	for _, k := range e.mutable {
		m[k], _ = cloneValue(e.values[k])
	}
	return m
}

// cloneValue returns a copy of v that shares nothing mutable with it, and
// whether v had anything mutable to copy. It covers every type the tagged
// JSON decoder produces; the others (strings, numbers, bools, nil,
// time.Time, UUID, Markup) are immutable values.
func cloneValue(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k], _ = cloneValue(e)
		}
		return m, true
	case []any:
		return cloneSlice(x), true
	case taggedjson.Tuple:
		return taggedjson.Tuple(cloneSlice(x)), true
	case []byte:
		return bytes.Clone(x), true
	case *big.Int:
		return new(big.Int).Set(x), true
	}
	return v, false
}

func cloneSlice(x []any) []any {
	if x == nil {
		return nil
	}
	s := make([]any, len(x))
	for i, e := range x {
		s[i], _ = cloneValue(e)
	}
	return s
}
