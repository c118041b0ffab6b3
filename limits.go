package seshat

import (
	"fmt"
	"strconv"
	"time"
)

// Reserved session keys. They sit in the session like any other key, so a
// Flask app sharing the cookie or the store simply carries them along; the
// "_seshat_" prefix keeps them apart from Flask's and Flask-Login's own
// underscore keys. Both are written only when the feature is configured.
const (
	// CreatedKey holds the session's start time in Unix seconds (an
	// integer) when Config.AbsoluteTimeout is set: the first save of a
	// session, and every Renew (login), stamp it.
	CreatedKey = "_seshat_created"
	// GenerationKey holds [user id, generation] (two strings) when
	// Config.Generation is set and the session has an owner (SetUserID).
	GenerationKey = "_seshat_gen"
)

// limitsOn reports whether any load-time check is configured.
func (s *settings) limitsOn() bool {
	return s.AbsoluteTimeout > 0 || s.IdleTimeout > 0 || s.Generation != nil || s.RenewAfter > 0
}

// checkLoaded applies the absolute timeout and the per-user generation to a
// session just read from its cookie or store. A session past its limit is
// dropped: the request continues with a fresh, empty session whose
// LoadError says why, and the store record (if any) is deleted. Callers hold
// s.mu.
func (m *Manager) checkLoaded(s *Session) {
	st := m.settings
	if _, ok := s.values[nextKey]; ok && st.Store != nil {
		m.followRenewal(s) // a retired id of a renewal timeout
	}
	if s.values == nil || !st.limitsOn() {
		return
	}
	if st.AbsoluteTimeout > 0 {
		if created, ok := s.values[CreatedKey]; ok {
			t, ok := unixSeconds(created)
			if !ok || st.Now().Sub(t) >= st.AbsoluteTimeout {
				m.drop(s, ErrSessionTimeout)
				return
			}
		}
	}
	if st.Generation != nil {
		v, ok := s.values[GenerationKey]
		if !ok {
			return
		}
		uid, gen, ok := parseGeneration(v)
		if !ok {
			m.drop(s, fmt.Errorf("%w: malformed %s", ErrSessionRevoked, GenerationKey))
			return
		}
		cur, err := st.Generation(s.ctx, uid)
		if err != nil {
			// Fail closed, like a store outage: the handler sees an
			// empty session, the response is a 503, and the client's
			// cookie is left alone.
			s.values = nil
			s.storeErr = fmt.Errorf("seshat: generation lookup: %w: %w", ErrStoreUnavailable, err)
			st.Logger.Error("seshat: generation lookup failed", "err", err.Error())
			return
		}
		if cur != gen {
			m.drop(s, ErrSessionRevoked)
		}
	}
}

// drop ends a session that failed a load-time check: the record is deleted
// (store mode) and the response deletes the cookie unless the handler writes
// a new session.
func (m *Manager) drop(s *Session, reason error) {
	if s.id != "" {
		if err := m.settings.Store.Delete(s.ctx, m.ids.Key(s.id)); err != nil {
			s.storeErr = storeFailure("delete", err)
			m.settings.Logger.Error("seshat: session store failed", "err", s.storeErr.Error())
			return
		}
	}
	s.values, s.id, s.userID, s.permanentHint = nil, "", "", false
	s.loadErr = fmt.Errorf("%w: %w", ErrInvalidCookie, reason)
	s.modified = true // send the deletion cookie
	m.settings.Logger.Debug("seshat: session ended by a limit, starting a new session", "reason", reason.Error())
}

// prepareSave stamps the reserved keys just before a session is written and
// reports whether it must be written: a missing or renewed creation time, an
// owner's generation, and (with IdleTimeout) a fresh signature for every
// request that used the session. Callers hold s.mu; the session is loaded.
func (m *Manager) prepareSave(s *Session) error {
	st := m.settings
	if s.storeErr != nil {
		return s.storeErr
	}
	if !st.limitsOn() || len(s.values) == 0 {
		return nil
	}
	if st.AbsoluteTimeout > 0 {
		if _, ok := s.values[CreatedKey]; !ok || s.renew {
			s.stamp(CreatedKey, st.Now().Unix())
		}
	}
	if st.Generation != nil && s.userSet {
		if s.userID == "" {
			if _, ok := s.values[GenerationKey]; ok {
				delete(s.values, GenerationKey)
				s.stampOp(GenerationKey, OpDelete)
			}
		} else {
			gen, err := st.Generation(s.ctx, s.userID)
			if err != nil {
				return fmt.Errorf("seshat: generation lookup: %w: %w", ErrStoreUnavailable, err)
			}
			s.stamp(GenerationKey, []any{s.userID, strconv.FormatUint(gen, 10)})
		}
	}
	if st.IdleTimeout > 0 && s.accessed {
		// The signed timestamp (cookie) or the record's expiry (store) is
		// the last-seen time, so every request that used the session
		// moves it.
		s.modified = true
	}
	return nil
}

// stamp sets a reserved key during save; unlike Set it is not a late change.
func (s *Session) stamp(key string, v any) {
	s.values[key] = v
	s.stampOp(key, OpSet)
}

func (s *Session) stampOp(key string, op Op) {
	s.changes.set(key, op)
	s.modified = true
}

// expiresAt is when a session saved now ends: now + Lifetime, cut short by
// IdleTimeout and by CreatedKey + AbsoluteTimeout. It is the Expires of a
// permanent cookie and of a store record.
func (s *settings) expiresAt(values map[string]any, now time.Time) time.Time {
	e := now.Add(s.Lifetime)
	if s.IdleTimeout > 0 {
		e = minTime(e, now.Add(s.IdleTimeout))
	}
	if s.AbsoluteTimeout > 0 {
		if t, ok := unixSeconds(values[CreatedKey]); ok {
			e = minTime(e, t.Add(s.AbsoluteTimeout))
		}
	}
	return e
}

// cookieMaxAge is the oldest signed timestamp a cookie may carry: with
// IdleTimeout the signature is refreshed on every use, so its age is the
// idle time.
func (s *settings) cookieMaxAge() time.Duration {
	if s.IdleTimeout > 0 && s.IdleTimeout < s.Lifetime {
		return s.IdleTimeout
	}
	return s.Lifetime
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// unixSeconds reads a creation time: an integer (seshat's form) or a float
// (Python's time.time()).
func unixSeconds(v any) (time.Time, bool) {
	switch n := v.(type) {
	case int64:
		return time.Unix(n, 0), true
	case float64:
		if n != n || n > 1<<62 || n < -(1<<62) {
			return time.Time{}, false
		}
		return time.Unix(int64(n), 0), true
	}
	return time.Time{}, false
}

// parseGeneration reads GenerationKey's [user id, generation] pair.
func parseGeneration(v any) (uid string, gen uint64, ok bool) {
	l, isList := v.([]any)
	if !isList || len(l) != 2 {
		return "", 0, false
	}
	uid, ok1 := l[0].(string)
	g, ok2 := l[1].(string)
	if !ok1 || !ok2 || uid == "" {
		return "", 0, false
	}
	gen, err := strconv.ParseUint(g, 10, 64)
	return uid, gen, err == nil
}

// permanentIDCookie reports whether a store-mode request carries a verified
// id cookie flagged permanent, whose expiry an untouched request would slide.
func (m *Manager) permanentIDCookie(lines []string) bool {
	var buf [maxCandidates]string
	for _, c := range cookieValues(lines, m.settings.name, buf[:0]) {
		if _, perm, err := m.verifiedID(c); err == nil && perm {
			return true
		}
	}
	return false
}
