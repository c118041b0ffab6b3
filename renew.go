package seshat

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

// Reserved keys of the renewal timeout (Config.RenewAfter), store mode only.
const (
	// IssuedKey holds when the session's current id was minted (Unix
	// seconds).
	IssuedKey = "_seshat_issued"
	// nextKey, in a retired record, holds the id that replaced it, masked
	// so that only a holder of the retired id can read it (the store sees
	// only hashes of ids and must not learn a live one).
	nextKey = "_seshat_next"
)

// forwardSalt derives the key that masks a successor id.
const forwardSalt = "seshat.renewal-forward"

// DefaultRenewGrace is how long a retired id keeps leading to its successor
// when Config.RenewGrace is zero.
const DefaultRenewGrace = 30 * time.Second

// mask hides next under a pad only the holder of old can compute:
// HMAC-SHA256(k, old) XOR next. Ids are 43 base64url characters (32
// bytes), the pad's size.
func (m *Manager) mask(old, next string) (string, bool) {
	n, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil || len(n) != sha256.Size {
		return "", false
	}
	keys := m.settings.Keys
	pad := hmacSHA256(hmacSHA256(keys[len(keys)-1], forwardSalt), old)
	for i := range n {
		n[i] ^= pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(n), true
}

// followRenewal replaces a retired record just loaded by the one that
// replaced it, during the grace period: a request that raced the renewal
// (or a tab that has not seen the new cookie yet) continues with the new
// id, and its response carries it. A successor that is gone (logout) gives
// no session. Callers hold s.mu.
func (m *Manager) followRenewal(s *Session) {
	// A successor renewed again within the grace period is a retired
	// record too; follow a short chain, never a loop.
	for range 4 {
		if _, ok := s.values[nextKey]; !ok || s.id == "" {
			return
		}
		m.followOnce(s)
	}
	if _, ok := s.values[nextKey]; ok {
		m.drop(s, fmt.Errorf("%w: renewal forwards too long", ErrInvalidCookie))
	}
}

func (m *Manager) followOnce(s *Session) {
	v, ok := s.values[nextKey].(string)
	if !ok {
		m.drop(s, fmt.Errorf("%w: malformed renewal forward", ErrInvalidCookie))
		return
	}
	next, ok := m.mask(s.id, v) // the XOR pad is its own inverse
	if !ok || !validID(next) {
		m.drop(s, fmt.Errorf("%w: malformed renewal forward", ErrInvalidCookie))
		return
	}
	rec, err := m.settings.Store.Load(s.ctx, m.ids.Key(next))
	if err != nil {
		s.id = "" // the retired record expires by itself
		if isNoRecord(err) {
			s.values, s.userID, s.permanentHint = nil, "", false
			s.loadErr = fmt.Errorf("%w: renewed session ended", ErrInvalidCookie)
			return
		}
		s.values = nil
		s.storeErr = storeFailure("load", err)
		return
	}
	values, err := decodeRecord(rec)
	if err != nil {
		s.id, s.values, s.loadErr = "", nil, err
		return
	}
	s.values, s.id, s.userID = values, next, rec.UserID
	s.modified = true // send the new cookie
}

// renewIfDue, with Config.RenewAfter, gives a session whose id is older
// than RenewAfter a new id at this save, keeping the retired record for
// RenewGrace as a forward to the new one. If a concurrent request renewed
// it first, this one writes into the successor instead, so exactly one new
// id lives. It stamps IssuedKey on sessions that lack it. Callers hold s.mu;
// store mode, loaded, non-empty.
func (m *Manager) renewIfDue(s *Session) error {
	st := m.settings
	if st.RenewAfter <= 0 || len(s.values) == 0 {
		return nil
	}
	now := st.Now()
	if s.id == "" || s.renew {
		s.stamp(IssuedKey, now.Unix())
		return nil
	}
	issued, ok := unixSeconds(s.values[IssuedKey])
	if !ok {
		s.stamp(IssuedKey, now.Unix())
		return nil
	}
	if now.Sub(issued) < st.RenewAfter {
		return nil
	}
	// Re-read the record: a request that loaded it at the same time may
	// have renewed it since.
	rec, err := st.Store.Load(s.ctx, m.ids.Key(s.id))
	if err != nil && !isNoRecord(err) {
		return storeFailure("load", err)
	}
	if err == nil {
		if raw, ok := rec.Values[nextKey]; ok {
			v, _ := taggedjson.Unmarshal(raw)
			fwd, _ := v.(string)
			next, ok := m.mask(s.id, fwd)
			if !ok || !validID(next) {
				return fmt.Errorf("seshat: %w: malformed renewal forward", ErrCorruptRecord)
			}
			// Write this request's changes into the successor.
			s.id, s.modified = next, true
			return nil
		}
	}
	s.renew, s.graceful = true, true
	s.stamp(IssuedKey, now.Unix())
	return nil
}

// retire ends the record of a renewed session: deleted, or, after a
// renewal timeout, kept for RenewGrace with a forward to next so that
// concurrent requests with the old cookie reach the new session.
func (m *Manager) retire(s *Session, oldKey, oldID, next string) error {
	st := m.settings
	if !s.graceful {
		if err := st.Store.Delete(s.ctx, oldKey); err != nil {
			return storeFailure("delete", err)
		}
		return nil
	}
	fwd, ok := m.mask(oldID, next)
	if !ok {
		return fmt.Errorf("seshat: renewal: malformed id")
	}
	b, err := taggedjson.Marshal(fwd)
	if err != nil {
		return err
	}
	grace := st.RenewGrace
	if grace <= 0 {
		grace = DefaultRenewGrace
	}
	expires := st.Now().Add(grace)
	// The retired record keeps nothing but the forward: its values live
	// on in the new record only.
	if mg, ok := st.Store.(Merger); ok {
		ch := &Change{Set: map[string][]byte{nextKey: b}, Expires: expires}
		for k := range s.values {
			ch.Delete = append(ch.Delete, k)
		}
		err = mg.Merge(s.ctx, oldKey, ch)
	} else {
		err = st.Store.Save(s.ctx, oldKey, &Record{Values: map[string][]byte{nextKey: b}, Expires: expires, UserID: s.userID})
	}
	if err != nil && !isNoRecord(err) {
		return storeFailure("retire", err)
	}
	return nil
}

func isNoRecord(err error) bool {
	return errors.Is(err, ErrNoRecord) || errors.Is(err, ErrSessionGone)
}
