package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/taggedjson"
)

// RememberOwnerPrefix prefixes the owner of a remember token kept by
// [SessionStoreTokens], so a store's user index keeps tokens apart from
// sessions: a user's tokens are listed under "remember:" + user id.
const RememberOwnerPrefix = "remember:"

// SessionStoreTokens keeps remember tokens in a seshat session store (the
// one the session Manager uses, or another), so they live in Redis, SQL or
// files like the sessions. Each token is one record under the hex SHA-256
// of "seshat.login.remember:" + selector (never a session's key), holding
// only the validator's SHA-256 (and the SHA-256 of the user's stamp, with
// Config.UserStamp), with Record.UserID set to
// RememberOwnerPrefix + the user id. Revoking all of a user's tokens needs
// a store with seshat.UserIndex.
//
// seshat.Store has no compare-and-swap: Swap is serialised within this
// process only. Two instances rotating the same token at the same moment
// can both succeed; the browser then holds a validator the store forgot,
// and its next use is reported as theft (all of the user's tokens are
// revoked, the user logs in again). Use one instance per token, a
// TokenStore with an atomic Swap, or accept that rare false alarm.
func SessionStoreTokens(store seshat.Store) TokenStore {
	return &sessionStoreTokens{store: store, seed: maphash.MakeSeed()}
}

type sessionStoreTokens struct {
	store seshat.Store
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func tokenKey(selector string) string {
	h := sha256.Sum256([]byte("seshat.login.remember:" + selector))
	return hex.EncodeToString(h[:])
}

func (s *sessionStoreTokens) Get(ctx context.Context, selector string) (Token, error) {
	rec, err := s.store.Load(ctx, tokenKey(selector))
	if errors.Is(err, seshat.ErrNoRecord) {
		return Token{}, ErrTokenNotFound
	}
	if err != nil {
		return Token{}, err
	}
	owner, ok := strings.CutPrefix(rec.UserID, RememberOwnerPrefix)
	if !ok {
		return Token{}, ErrTokenNotFound
	}
	t := Token{UserID: owner, Expires: rec.Expires}
	if t.Hash, err = hexField(rec, "h", "hash", sha256.Size); err != nil {
		return Token{}, err
	}
	if _, ok := rec.Values["p"]; ok {
		if t.PrevHash, err = hexField(rec, "p", "hash", 0); err != nil {
			return Token{}, err
		}
	}
	if _, ok := rec.Values["s"]; ok {
		if t.Stamp, err = hexField(rec, "s", "stamp", sha256.Size); err != nil {
			return Token{}, err
		}
	}
	if _, ok := rec.Values["r"]; ok {
		var rot int64
		if err := decodeField(rec, "r", &rot); err != nil {
			return Token{}, err
		}
		t.RotatedAt = time.Unix(0, rot)
	}
	return t, nil
}

// hexField decodes the hex string field k of a token record; with size >
// 0 it must decode to exactly size bytes. what names the field in the
// error.
func hexField(rec *seshat.Record, k, what string, size int) ([]byte, error) {
	var s string
	if err := decodeField(rec, k, &s); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil || (size > 0 && len(b) != size) {
		return nil, fmt.Errorf("%w: remember token %s", seshat.ErrCorruptRecord, what)
	}
	return b, nil
}

func decodeField(rec *seshat.Record, k string, dst any) error {
	raw, ok := rec.Values[k]
	if !ok {
		return fmt.Errorf("%w: remember token lacks %q", seshat.ErrCorruptRecord, k)
	}
	v, err := taggedjson.Unmarshal(raw)
	if err == nil {
		err = taggedjson.Convert(v, dst)
	}
	if err != nil {
		return fmt.Errorf("%w: remember token %q: %w", seshat.ErrCorruptRecord, k, err)
	}
	return nil
}

func (s *sessionStoreTokens) Put(ctx context.Context, selector string, t Token) error {
	vals := map[string]any{"h": hex.EncodeToString(t.Hash), "r": t.RotatedAt.UnixNano()}
	if t.PrevHash != nil {
		vals["p"] = hex.EncodeToString(t.PrevHash)
	}
	if t.Stamp != nil {
		vals["s"] = hex.EncodeToString(t.Stamp)
	}
	rec := &seshat.Record{Values: make(map[string][]byte, len(vals)), Expires: t.Expires, UserID: RememberOwnerPrefix + t.UserID}
	for k, v := range vals {
		b, err := taggedjson.Marshal(v)
		if err != nil {
			return err
		}
		rec.Values[k] = b
	}
	return s.store.Save(ctx, tokenKey(selector), rec)
}

func (s *sessionStoreTokens) Swap(ctx context.Context, selector string, oldHash []byte, t Token) (bool, error) {
	mu := &s.locks[maphash.String(s.seed, selector)%uint64(len(s.locks))]
	mu.Lock()
	defer mu.Unlock()
	cur, err := s.Get(ctx, selector)
	if errors.Is(err, ErrTokenNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare(cur.Hash, oldHash) != 1 { // never ==: see TestCVE_2013_0263_ConstantTimeComparisons
		return false, nil
	}
	return true, s.Put(ctx, selector, t)
}

func (s *sessionStoreTokens) Delete(ctx context.Context, selector string) error {
	return s.store.Delete(ctx, tokenKey(selector))
}

func (s *sessionStoreTokens) DeleteUser(ctx context.Context, userID string) (int, error) {
	ix, ok := s.store.(seshat.UserIndex)
	if !ok {
		return 0, fmt.Errorf("login: %T has no user index: %w", s.store, ErrNotRevocable)
	}
	return ix.RevokeUser(ctx, RememberOwnerPrefix+userID)
}
