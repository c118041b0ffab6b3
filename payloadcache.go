package seshat

import (
	"bytes"
	"maps"
	"math/big"
	"sync"

	"github.com/seshat-go/seshat/taggedjson"
)

// A payloadCache remembers the sessions parsed out of recently seen cookie
// payloads, so that a client sending the same cookie again costs a map copy
// instead of a base64 decode and a tagged-JSON parse: in a Flask-format
// cookie the session changes far less often than it is read.
//
// It sits behind the signature check, never in front of it: every request's
// cookie is verified (HMAC, timestamp, age) in full before its payload is
// looked up, so the cache holds nothing an attacker could use to skip
// verification, a key rotation needs no flush, and its timing tells a client
// only whether its own, already valid, cookie was seen before. It memoizes a
// pure function of authenticated bytes.
//
// Two generations bound it: entries go into cur; when cur is full it becomes
// old and a new cur starts, so a payload read at least once per generation
// stays cached and memory stays under 2×limit entries of at most
// maxCachedPayload bytes of JSON each.
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

// get returns a private copy of the session parsed from the verified body.
func (c *payloadCache) get(body []byte) (map[string]any, bool) {
	c.mu.Lock()
	e, ok := c.cur[string(body)]
	if !ok {
		if e, ok = c.old[string(body)]; ok {
			c.insert(string(body), e) // still in use: keep it a generation more
		}
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return e.copy(), true
}

// put records the session parsed from body, keeping a deep copy of values
// (the caller's map goes on to be the request's session).
func (c *payloadCache) put(body []byte, payloadLen int, values map[string]any) {
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
	key := string(body)
	c.mu.Lock()
	c.insert(key, e)
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
