package seshat

import (
	"sync"
	"time"
)

// A signedCache remembers the Set-Cookie headers a cookie-mode Manager built
// in the current second to re-issue unchanged permanent sessions, by the
// session JSON they carry. The header is a
// function of that JSON, the signing time in whole seconds (itsdangerous
// timestamps have one-second resolution), the Expires date, the Secure flag
// and the Manager's fixed keys and cookie settings; so within one second a
// session that encodes to the same JSON gets the same header, and the cache
// hands out that header instead of compressing, base64-encoding and signing
// again. Flask re-issues a permanent session on every request (refresh each
// request, its default), so the requests of one page's burst re-issue the
// same session within the same second. Saves of changed sessions do not use
// it (see Manager.signedHeader).
//
// It holds only the current second: the first save of a new second empties
// it. So it is a memo of a pure function, and what it returns is byte for
// byte what the save would have built. The headers it keeps are cookies the
// server just sent; the keys that sign them are in the same memory.
type signedCache struct {
	mu    sync.Mutex
	limit int
	sec   int64
	m     map[string]signedHeader
}

// headerInputs are the inputs of a header besides the JSON and the second.
// A cached header is served only for equal inputs; a field added here is
// compared with the rest.
type headerInputs struct {
	expires     int64 // Unix seconds of the Expires attribute; noExpires when none
	secure      bool
	minCompress int // the codec's compression settings when it was built
	maxDecoded  int
}

// signedHeader is one cached header with the inputs that shaped it.
type signedHeader struct {
	headerInputs
	header string
}

const noExpires = -1 << 63

// newSignedCache returns a cache of up to limit headers per second, or nil
// when limit < 0 (the same switch as Config.ParsedCookies).
func newSignedCache(limit int) *signedCache {
	if limit < 0 {
		return nil
	}
	if limit == 0 {
		limit = DefaultParsedCookies
	}
	return &signedCache{limit: limit, m: make(map[string]signedHeader)}
}

// signedKey returns what a header signed at at depends on besides the JSON:
// the second and the other inputs. ok is false for times the cache leaves
// alone.
func (c *CookieCodec) signedKey(at, expires time.Time, secure bool) (sec int64, in headerInputs, ok bool) {
	sec = at.Unix()
	if sec <= 0 {
		return 0, in, false // itsdangerous rounds times before 1970 its own way; not worth caching
	}
	in = headerInputs{expires: noExpires, secure: secure, minCompress: c.minCompress, maxDecoded: c.maxDecoded}
	if !expires.IsZero() {
		in.expires = expires.Unix()
	}
	return sec, in, true
}

// lookup returns the header built in second sec for payload from the same
// other inputs as want.
func (c *signedCache) lookup(payload []byte, sec int64, want headerInputs) (string, bool) {
	if c == nil || len(payload) > maxCachedPayload {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sec != sec {
		return "", false
	}
	h, ok := c.m[string(payload)]
	if !ok || h.headerInputs != want {
		return "", false
	}
	return h.header, true
}

// put remembers header, built in second sec for payload. A later second
// than the cache holds starts it afresh; an earlier one (a clock that went
// back, a slow request) is not kept.
func (c *signedCache) put(payload []byte, sec int64, h signedHeader) {
	if c == nil || len(payload) > maxCachedPayload {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case sec > c.sec:
		c.sec = sec
		clear(c.m)
	case sec < c.sec:
		return
	}
	if len(c.m) < c.limit {
		c.m[string(payload)] = h
	}
}
