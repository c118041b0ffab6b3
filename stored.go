package seshat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// idSalt separates the signature of a store-mode session id from every other
// signature made with the same keys.
const idSalt = "seshat.session-id"

// storeFailure wraps a store error so that it always answers errors.Is(err,
// ErrStoreUnavailable): any failure other than "no such record" fails the
// request closed (503) instead of serving it as a fresh session.
func storeFailure(op string, err error) error {
	if errors.Is(err, ErrStoreUnavailable) {
		return fmt.Errorf("seshat: store %s: %w", op, err)
	}
	return fmt.Errorf("seshat: store %s: %w: %w", op, ErrStoreUnavailable, err)
}

// verifiedID decodes one session cookie with the IDScheme.
func (m *Manager) verifiedID(c string) (id string, permanent bool, err error) {
	id, permanent, _, err = m.verifiedIDReusable(c)
	return id, permanent, err
}

// verifiedIDReusable is verifiedID that also reports whether c is exactly
// the cookie value Encode would give for id and permanent, so a response may
// send c back instead of signing again; only seshat's own scheme tells.
func (m *Manager) verifiedIDReusable(c string) (id string, permanent, reusable bool, err error) {
	if d, ok := m.ids.(*defaultIDs); ok {
		id, permanent, reusable, err = d.decode(c)
	} else {
		id, permanent, err = m.ids.Decode(c)
	}
	if err != nil {
		return "", false, false, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	return id, permanent, reusable, nil
}

// loadStored reads a store-mode session: verify the cookie's signature, then
// one Load from the store. An unknown, expired or revoked id gives a fresh
// session (the client's id is never adopted); a store failure is kept in
// s.storeErr. Callers hold s.mu.
func (m *Manager) loadStored(s *Session) {
	var buf [maxCandidates]string
	for _, c := range cookieValues(s.cookies, m.settings.name, buf[:0]) {
		id, perm, reusable, err := m.verifiedIDReusable(c)
		if err != nil {
			s.loadErr = firstErr(s.loadErr, err)
			continue
		}
		key := m.ids.Key(id)
		rec, err := m.settings.Store.Load(s.ctx, key)
		if errors.Is(err, ErrNoRecord) {
			s.loadErr = firstErr(s.loadErr, fmt.Errorf("%w: unknown, expired or revoked session", ErrInvalidCookie))
			continue
		}
		if errors.Is(err, ErrCorruptRecord) {
			s.loadErr = firstErr(s.loadErr, fmt.Errorf("%w: %w", ErrInvalidCookie, err))
			m.settings.Logger.Warn("seshat: corrupt session record, starting a new session", "reason", err.Error())
			continue
		}
		if err != nil {
			s.storeErr = storeFailure("load", err)
			m.settings.Logger.Error("seshat: session store failed", "err", s.storeErr.Error())
			return
		}
		values, err := decodeRecord(rec)
		if err != nil {
			s.loadErr = firstErr(s.loadErr, err)
			m.settings.Logger.Warn("seshat: corrupt session record, starting a new session", "reason", err.Error())
			continue
		}
		s.values, s.id, s.permanentHint, s.userID, s.loadErr = values, id, perm, rec.UserID, nil
		s.key = storeKey{id: id, key: key}
		if reusable {
			s.sent = sentCookie{id: id, permanent: perm, value: c}
		}
		return
	}
	if s.loadErr != nil {
		m.settings.Logger.Debug("seshat: session cookie rejected, starting a new session", "reason", s.loadErr.Error())
	}
}

func firstErr(prev, err error) error {
	if prev != nil {
		return prev
	}
	return err
}

func decodeRecord(rec *Record) (map[string]any, error) {
	values := make(map[string]any, len(rec.Values))
	for k, raw := range rec.Values {
		v, err := taggedjson.Unmarshal(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: stored value %s: %w", ErrInvalidCookie, ErrCorruptRecord, quoteKey(k), err)
		}
		values[k] = v
	}
	return values, nil
}

func encodeValues(values map[string]any, limit int) (map[string][]byte, error) {
	out := make(map[string][]byte, len(values))
	size := 0
	for k, v := range values {
		b, err := taggedjson.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("seshat: encode %s: %w", quoteKey(k), err)
		}
		out[k] = b
		if size += len(k) + len(b); size > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrRecordTooLarge, limit)
		}
	}
	return out, nil
}

// saveStored applies Flask's save rules to a store-mode session: write only
// what changed (a Merge), slide a permanent session's expiry with a Touch,
// delete the record of an emptied or destroyed session, and mint a new id for
// a new or renewed one. The store sees at most two commands per request.
func (m *Manager) saveStored(h http.Header, s *Session) error {
	st := m.settings
	refresh := !st.NoRefreshEachRequest
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = true
	if !s.loaded && refresh && st.limitsOn() && m.permanentIDCookie(s.cookies) {
		// A permanent session's expiry must not slide past its limits,
		// which only the record knows: read it instead of a blind Touch.
		s.load()
	}
	now := st.Now()
	expires := now.Add(st.Lifetime)
	secure := st.secure(s.tls)

	if !s.loaded {
		// Untouched. Only a permanent session with refresh on needs work,
		// and the signed flag in the cookie tells without a store read.
		if !refresh || len(s.cookies) == 0 {
			return nil
		}
		var buf [maxCandidates]string
		for _, c := range cookieValues(s.cookies, st.name, buf[:0]) {
			id, perm, reusable, err := m.verifiedIDReusable(c)
			if err != nil || !perm {
				continue
			}
			err = m.touch(s.ctx, m.ids.Key(id), expires)
			if errors.Is(err, ErrNoRecord) || errors.Is(err, ErrSessionGone) {
				continue
			}
			if err != nil {
				return storeFailure("touch", err)
			}
			if reusable {
				s.sent = sentCookie{id: id, permanent: perm, value: c}
			}
			m.setIDCookie(h, s, id, true, expires, secure)
			return nil
		}
		return nil
	}
	if s.storeErr != nil {
		return s.storeErr
	}
	if err := m.prepareSave(s); err != nil {
		return err
	}
	if err := m.renewIfDue(s); err != nil {
		return err
	}
	expires = st.expiresAt(s.values, now)
	if s.accessed {
		addVary(h, "Cookie", &s.hdr)
	}
	key := ""
	if s.id != "" {
		key = s.storeKey()
	}
	if len(s.values) == 0 {
		if s.modified || s.destroyed {
			if key != "" {
				if err := st.Store.Delete(s.ctx, key); err != nil {
					return storeFailure("delete", err)
				}
			}
			setCookie(h, st.cookieHeader("", zeroTime, true, secure), &s.hdr)
		}
		return nil
	}
	permanent := truthy(s.values[permanentKey])
	switch {
	case !s.modified && !(permanent && refresh):
		return nil
	case !s.modified:
		if err := m.touch(s.ctx, key, expires); err != nil && !errors.Is(err, ErrNoRecord) {
			return storeFailure("touch", err)
		}
	case s.id == "" || s.renew:
		vals, err := encodeValues(s.values, st.MaxRecordSize)
		if err != nil {
			return err
		}
		id := m.ids.New()
		if err := st.Store.Save(s.ctx, m.ids.Key(id), &Record{Values: vals, Expires: expires, UserID: s.userID}); err != nil {
			return storeFailure("save", err)
		}
		if key != "" {
			if err := m.retire(s, key, s.id, id); err != nil {
				return err
			}
		}
		s.id = id
	default:
		gone, err := m.writeChanges(s, key, expires)
		if err != nil {
			return err
		}
		if gone {
			// Another request destroyed this session while this one ran:
			// do not bring it back, and end it here too.
			st.Logger.Info("seshat: session destroyed by a concurrent request; changes dropped")
			setCookie(h, st.cookieHeader("", zeroTime, true, secure), &s.hdr)
			return nil
		}
	}
	if !permanent && s.sent.value != "" && s.sent.id == s.id && !s.sent.permanent {
		// The browser already holds exactly this cookie: a session cookie
		// (no Expires to slide) for the same id, in canonical form.
		// Sending it again would change nothing but the bytes on the wire.
		return nil
	}
	m.setIDCookie(h, s, s.id, permanent, expires, secure)
	return nil
}

// writeChanges stores this request's changes: a Merge where the store can
// (concurrent requests changing different keys all persist), else the whole
// record. It reports gone when the record was deleted meanwhile.
func (m *Manager) writeChanges(s *Session, key string, expires time.Time) (gone bool, err error) {
	st := m.settings
	merger, ok := st.Store.(Merger)
	if !ok {
		vals, err := encodeValues(s.values, st.MaxRecordSize)
		if err != nil {
			return false, err
		}
		if err := st.Store.Save(s.ctx, key, &Record{Values: vals, Expires: expires, UserID: s.userID}); err != nil {
			return false, storeFailure("save", err)
		}
		return false, nil
	}
	ch := &Change{Set: make(map[string][]byte, s.changes.len()), Expires: expires, UserID: s.userID, SetUser: s.userSet}
	size := 0
	for k, op := range s.changes.all() {
		v, present := s.values[k]
		if op == OpDelete || !present {
			ch.Delete = append(ch.Delete, k)
			continue
		}
		b, err := taggedjson.Marshal(v)
		if err != nil {
			return false, fmt.Errorf("seshat: encode %s: %w", quoteKey(k), err)
		}
		ch.Set[k] = b
		if size += len(k) + len(b); size > st.MaxRecordSize {
			return false, fmt.Errorf("%w: more than %d bytes", ErrRecordTooLarge, st.MaxRecordSize)
		}
	}
	err = merger.Merge(s.ctx, key, ch)
	if errors.Is(err, ErrSessionGone) {
		return true, nil
	}
	if err != nil {
		return false, storeFailure("merge", err)
	}
	return false, nil
}

// touch moves a record's expiry, with a Toucher, or by loading and saving
// the record when the store has none.
func (m *Manager) touch(ctx context.Context, key string, expires time.Time) error {
	store := m.settings.Store
	if t, ok := store.(Toucher); ok {
		return t.Touch(ctx, key, expires)
	}
	rec, err := store.Load(ctx, key)
	if err != nil {
		return err
	}
	rec.Expires = expires
	return store.Save(ctx, key, rec)
}

// setIDCookie sends the signed session id. The cookie the request came
// with is sent back as it was when verifiedID found it reusable and it holds
// the same id and permanence: signing again would give the same bytes.
func (m *Manager) setIDCookie(h http.Header, s *Session, id string, permanent bool, expires time.Time, secure bool) {
	if !permanent {
		expires = zeroTime
	}
	value := s.sent.value
	if value == "" || s.sent.id != id || s.sent.permanent != permanent {
		value = m.ids.Encode(id, permanent)
	}
	setCookie(h, m.settings.cookieHeader(value, expires, false, secure), &s.hdr)
}

// storeKey caches the store key of one session id.
type storeKey struct{ id, key string }

// sentCookie is the verified session cookie a request came with.
type sentCookie struct {
	id        string
	permanent bool
	value     string
}

// storeKey returns the store key of s.id, computed once per id. Callers
// hold s.mu (or own s alone, as the save does).
func (s *Session) storeKey() string {
	if s.key.id != s.id || s.key.key == "" {
		s.key = storeKey{id: s.id, key: s.m.ids.Key(s.id)}
	}
	return s.key.key
}
