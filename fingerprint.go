package seshat

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
)

// FingerprintLen is the length of [Session.Fingerprint]: 12 hex characters,
// 48 bits of HMAC-SHA256. Two sessions share one by chance only after
// millions of sessions, which is enough to follow one session through logs;
// it is not an identifier to authorize anything by.
const FingerprintLen = 12

// fingerprintSalt derives the default fingerprint key from the newest
// signing key, so fingerprints are not a signature anything else accepts.
const fingerprintSalt = "seshat.fingerprint"

// userIDKey is where Flask-Login (and package login) keep the user's id.
const userIDKey = "_user_id"

// fpLocal caches a fingerprint in the session's locals, so each log line
// of a request does not cost two HMACs; it is recomputed when the identity
// or the key changes (a Renew mints a new id mid-request).
type fpLocal struct{}

type fpCache struct {
	cookie     ident // before load: the identity the cookie names
	cookieRead bool
	ident      ident
	fp         string
	key        []byte
}

// ident is what a fingerprint hashes: a kind ("sid" or "user") and an id,
// kept apart so comparing with the cache allocates nothing.
type ident struct{ kind, id string }

// Fingerprint returns a short keyed hash that names the session in logs
// without revealing it: [FingerprintLen] hex characters of HMAC-SHA256 under
// key, or under a key derived from the manager's newest signing key when key
// is nil (fingerprints then change when that key rotates). It is "" when the
// session has nothing to name.
//
// What is hashed:
//   - With a [Store], the session id: the one the cookie names (its signature
//     checked, the store not asked), or the one minted when a new or renewed
//     session is saved. One session keeps one fingerprint until Renew.
//   - In cookie mode there is no session id, and the cookie value changes
//     whenever it is re-issued, so the fingerprint names the logged-in user:
//     Flask-Login's "_user_id" (what package login stores), or the id given to
//     [Session.SetUserID] during this request. All of one user's sessions
//     share it; an anonymous cookie session has none.
//
// The fingerprint is the first 6 bytes, in hex, of HMAC-SHA256(key,
// "sid\x00"+id) or HMAC-SHA256(key, "user\x00"+userID), so a Flask app given
// the same explicit key can tag its logs identically. The raw id, the cookie
// and the user id never leave the session.
//
// A log line must not change the response: Fingerprint never loads the
// session, asks the store, calls Config.Generation or marks the session
// accessed. Before anything loaded the session it verifies the cookie on the
// side (once per request), so it names what the cookie holds even when a
// load would then refuse it (a timed-out session, say).
func (s *Session) Fingerprint(key []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _ := s.locals[fpLocal{}].(*fpCache)
	if c == nil {
		c = &fpCache{}
		if s.locals == nil {
			s.locals = make(map[any]any)
		}
		s.locals[fpLocal{}] = c
	}
	id := s.identity(c)
	if id.id == "" {
		return ""
	}
	if id == c.ident && bytes.Equal(key, c.key) && (key == nil) == (c.key == nil) {
		return c.fp
	}
	k := key
	if k == nil {
		keys := s.m.settings.Keys
		k = hmacSHA256(keys[len(keys)-1], fingerprintSalt)
	}
	sum := hmacSHA256(k, id.kind, "\x00", id.id)
	c.ident, c.key, c.fp = id, bytes.Clone(key), hex.EncodeToString(sum[:FingerprintLen/2])
	return c.fp
}

// identity returns what Fingerprint hashes, with its kind (hashed first) so a
// session id and a user id never share a fingerprint. A session nobody
// loaded is not loaded here either (that could call the store or
// Config.Generation, or end the session, because of a log line): its cookie
// is verified on the side, once. Callers hold s.mu.
func (s *Session) identity(c *fpCache) ident {
	m := s.m
	if s.loaded {
		if m.settings.Store != nil {
			return ident{"sid", s.id}
		}
		if s.userSet {
			return ident{"user", s.userID}
		}
		return ident{"user", userIDOf(s.values)}
	}
	if !c.cookieRead {
		c.cookieRead = true
		if m.settings.Store != nil {
			var buf [maxCandidates]string
			for _, v := range cookieValues(s.cookies, m.settings.name, buf[:0]) {
				if id, _, err := m.verifiedID(v); err == nil {
					c.cookie = ident{"sid", id}
					break
				}
			}
		} else if values, err := m.loadCookie(s.cookies); err == nil {
			c.cookie = ident{"user", userIDOf(values)}
		}
	}
	return c.cookie
}

// userIDOf reads Flask-Login's user id: a string, or an integer from an app
// whose get_id returns one.
func userIDOf(values map[string]any) string {
	switch v := values[userIDKey].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func hmacSHA256(key []byte, msg ...string) []byte {
	mac := hmac.New(sha256.New, key)
	for _, m := range msg {
		io.WriteString(mac, m)
	}
	return mac.Sum(nil)
}
