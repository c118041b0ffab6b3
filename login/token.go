package login

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	// ErrTokenNotFound is what a TokenStore returns for a missing or
	// expired token.
	ErrTokenNotFound = errors.New("login: no such remember token")
	// ErrNotRevocable is returned by RevokeRemembered when the remember
	// cookie cannot be revoked on the server: Flask-Login's cookie, or a
	// signed token (bump Config.Generation's counter instead).
	ErrNotRevocable = errors.New("login: remember cookies of this mode cannot be revoked on the server")

	errBadToken = errors.New("login: invalid remember token")
	errTheft    = errors.New("login: rotated-out remember token presented again")
)

// Token is a remember token as a [TokenStore] keeps it. The store never
// sees a validator, only its SHA-256.
type Token struct {
	// UserID owns the token.
	UserID string
	// Hash is the SHA-256 of the current validator.
	Hash []byte
	// PrevHash is the SHA-256 of the validator before the last rotation,
	// accepted (without rotating again) until RotatedAt plus
	// Config.TokenGrace; presented later, it reveals a stolen cookie.
	PrevHash  []byte
	RotatedAt time.Time
	// Expires is when the store must forget the token.
	Expires time.Time
	// Stamp is the SHA-256 of the user's Config.UserStamp when the token
	// was issued (nil without UserStamp). A TokenStore keeps it as it
	// keeps Hash.
	Stamp []byte
}

// TokenStore keeps remember tokens by selector (a random, non-secret
// 128-bit id in the cookie). Implementations must be safe for concurrent
// use.
type TokenStore interface {
	// Get returns the token under selector, or ErrTokenNotFound when it is
	// missing or expired.
	Get(ctx context.Context, selector string) (Token, error)
	// Put stores t under selector, replacing what was there.
	Put(ctx context.Context, selector string, t Token) error
	// Swap replaces the token under selector with t only if the stored
	// token's Hash equals oldHash, and reports whether it did; this keeps
	// two concurrent rotations from both succeeding.
	Swap(ctx context.Context, selector string, oldHash []byte, t Token) (bool, error)
	// Delete removes the token under selector; a missing one is no error.
	Delete(ctx context.Context, selector string) error
	// DeleteUser removes every token of userID and returns how many.
	DeleteUser(ctx context.Context, userID string) (int, error)
}

// MemoryTokens is an in-memory [TokenStore] for tests and single-process
// applications; tokens are lost on restart. The zero value is not usable:
// call NewMemoryTokens.
type MemoryTokens struct {
	mu     sync.Mutex
	now    func() time.Time
	tokens map[string]Token
	// sweepAt is the size at which Put next drops expired tokens, so the
	// map stays within twice its live size.
	sweepAt int
}

// NewMemoryTokens returns an empty MemoryTokens; now is its clock (nil
// means time.Now).
func NewMemoryTokens(now func() time.Time) *MemoryTokens {
	if now == nil {
		now = time.Now
	}
	return &MemoryTokens{now: now, tokens: make(map[string]Token)}
}

// Get implements TokenStore.
func (s *MemoryTokens) Get(_ context.Context, selector string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[selector]
	if !ok || !t.Expires.After(s.now()) {
		return Token{}, ErrTokenNotFound
	}
	return t, nil
}

// Put implements TokenStore.
func (s *MemoryTokens) Put(_ context.Context, selector string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[selector] = t
	if len(s.tokens) >= s.sweepAt {
		now := s.now()
		for k, t := range s.tokens {
			if !t.Expires.After(now) {
				delete(s.tokens, k)
			}
		}
		s.sweepAt = max(64, 2*len(s.tokens))
	}
	return nil
}

// Swap implements TokenStore.
func (s *MemoryTokens) Swap(_ context.Context, selector string, oldHash []byte, t Token) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tokens[selector]
	if !ok || !cur.Expires.After(s.now()) || !hmac.Equal(cur.Hash, oldHash) {
		return false, nil
	}
	s.tokens[selector] = t
	return true, nil
}

// Delete implements TokenStore.
func (s *MemoryTokens) Delete(_ context.Context, selector string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, selector)
	return nil
}

// DeleteUser implements TokenStore.
func (s *MemoryTokens) DeleteUser(_ context.Context, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, t := range s.tokens {
		if t.UserID == userID {
			delete(s.tokens, k)
			n++
		}
	}
	return n, nil
}

// Len returns the number of tokens held, expired ones included.
func (s *MemoryTokens) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// tokenIssuer is one remember cookie format.
type tokenIssuer interface {
	// issue mints a cookie value for userID valid until expires.
	issue(ctx context.Context, userID string, expires time.Time) (string, error)
	// use verifies value for a login; newValue, when not "", replaces it
	// (rotation) until exp. It fails with errBadToken, or errTheft with
	// userID set.
	use(ctx context.Context, value string) (userID, newValue string, exp time.Time, err error)
	// refresh extends a valid value to expires and returns the value to
	// send, or "" to send nothing.
	refresh(ctx context.Context, value string, expires time.Time) (string, error)
	revoke(ctx context.Context, value string) error
	revokeUser(ctx context.Context, userID string) error
}

// flaskTokens is Flask-Login's cookie.
type flaskTokens struct{ key []byte }

func (f flaskTokens) issue(_ context.Context, id string, _ time.Time) (string, error) {
	if err := checkCookieValue(id); err != nil {
		return "", err
	}
	return FlaskRememberValue(f.key, id), nil
}

func (f flaskTokens) use(_ context.Context, v string) (string, string, time.Time, error) {
	id, ok := ParseFlaskRemember(f.key, v)
	if !ok {
		return "", "", time.Time{}, errBadToken
	}
	return id, "", time.Time{}, nil
}

func (f flaskTokens) refresh(_ context.Context, v string, _ time.Time) (string, error) {
	return v, nil
}

func (flaskTokens) revoke(context.Context, string) error { return nil }

func (flaskTokens) revokeUser(context.Context, string) error { return ErrNotRevocable }

// storeTokens is seshat's selector:validator token in a TokenStore.
type storeTokens struct {
	m     *Manager
	store TokenStore
	stamp func(ctx context.Context, userID string) (string, error) // Config.UserStamp
}

// userStamp returns the SHA-256 of id's current Config.UserStamp, or nil
// without one.
func (t *storeTokens) userStamp(ctx context.Context, id string) ([]byte, error) {
	if t.stamp == nil {
		return nil, nil
	}
	s, err := t.stamp(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("login: UserStamp: %w", err)
	}
	h := sha256.Sum256([]byte("seshat.login.stamp\x00" + s))
	return h[:], nil
}

// sameAccount reports whether tok was issued to the account that holds its
// user id now: always without UserStamp; with it, only when the token
// recorded the user's current stamp.
func (t *storeTokens) sameAccount(ctx context.Context, tok Token) (bool, error) {
	if t.stamp == nil {
		return true, nil
	}
	cur, err := t.userStamp(ctx, tok.UserID)
	if err != nil {
		return false, err
	}
	return len(tok.Stamp) == sha256.Size && subtle.ConstantTimeCompare(cur, tok.Stamp) == 1, nil
}

const (
	selectorLen  = 16
	validatorLen = 32
)

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashValidator(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// splitToken parses "selector:validator".
func splitToken(v string) (sel, val string, ok bool) {
	sel, val, ok = strings.Cut(v, ":")
	if !ok || len(sel) != base64.RawURLEncoding.EncodedLen(selectorLen) || len(val) != base64.RawURLEncoding.EncodedLen(validatorLen) {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(sel); err != nil {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(val); err != nil {
		return "", "", false
	}
	return sel, val, true
}

func (t *storeTokens) issue(ctx context.Context, id string, expires time.Time) (string, error) {
	stamp, err := t.userStamp(ctx, id)
	if err != nil {
		return "", err
	}
	sel, val := random(selectorLen), random(validatorLen)
	if err := t.store.Put(ctx, sel, Token{UserID: id, Hash: hashValidator(val), RotatedAt: t.m.cfg.Now(), Expires: expires, Stamp: stamp}); err != nil {
		return "", err
	}
	return sel + ":" + val, nil
}

func (t *storeTokens) lookup(ctx context.Context, v string) (string, []byte, Token, error) {
	sel, val, ok := splitToken(v)
	if !ok {
		return "", nil, Token{}, errBadToken
	}
	tok, err := t.store.Get(ctx, sel)
	if errors.Is(err, ErrTokenNotFound) {
		return "", nil, Token{}, errBadToken
	}
	if err != nil {
		return "", nil, Token{}, fmt.Errorf("login: token store: %w", err)
	}
	if !tok.Expires.After(t.m.cfg.Now()) {
		return "", nil, Token{}, errBadToken
	}
	return sel, hashValidator(val), tok, nil
}

func (t *storeTokens) use(ctx context.Context, v string) (string, string, time.Time, error) {
	sel, h, tok, err := t.lookup(ctx, v)
	if err != nil {
		return "", "", time.Time{}, err
	}
	// A token of another account that held this user id (deleted, its id
	// reused) is retired: never honoured, and never taken for a theft
	// that would revoke the new account's tokens.
	same, err := t.sameAccount(ctx, tok)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if !same {
		if err := t.store.Delete(ctx, sel); err != nil {
			t.m.cfg.Logger.Error("login: deleting the remember token of a former account failed", "err", err.Error())
		}
		return "", "", time.Time{}, errBadToken
	}
	now := t.m.cfg.Now()
	switch {
	case subtle.ConstantTimeCompare(h, tok.Hash) == 1:
		val := random(validatorLen)
		next := Token{UserID: tok.UserID, Hash: hashValidator(val), PrevHash: tok.Hash, RotatedAt: now, Expires: tok.Expires, Stamp: tok.Stamp}
		ok, err := t.store.Swap(ctx, sel, tok.Hash, next)
		if err != nil {
			return "", "", time.Time{}, fmt.Errorf("login: token store: %w", err)
		}
		if !ok {
			// A concurrent request rotated it first: accept, and let
			// that request's cookie stand.
			return tok.UserID, "", time.Time{}, nil
		}
		return tok.UserID, sel + ":" + val, tok.Expires, nil
	case tok.PrevHash != nil && subtle.ConstantTimeCompare(h, tok.PrevHash) == 1 && now.Before(tok.RotatedAt.Add(t.m.cfg.TokenGrace)):
		return tok.UserID, "", time.Time{}, nil
	}
	// The selector is live but the validator is not its current one: a
	// copy of the cookie was used after the browser's (or the thief's)
	// rotation. Revoke everything of this user.
	if err := t.store.Delete(ctx, sel); err != nil {
		t.m.cfg.Logger.Error("login: revoking a stolen remember token failed", "err", err.Error())
	}
	if _, err := t.store.DeleteUser(ctx, tok.UserID); err != nil {
		t.m.cfg.Logger.Error("login: revoking remember tokens after a theft failed", "err", err.Error())
	}
	return tok.UserID, "", time.Time{}, errTheft
}

func (t *storeTokens) refresh(ctx context.Context, v string, expires time.Time) (string, error) {
	sel, h, tok, err := t.lookup(ctx, v)
	if err != nil || subtle.ConstantTimeCompare(h, tok.Hash) != 1 {
		return "", err
	}
	tok.Expires = expires
	ok, err := t.store.Swap(ctx, sel, h, tok)
	if err != nil || !ok {
		return "", err
	}
	return v, nil
}

func (t *storeTokens) revoke(ctx context.Context, v string) error {
	sel, h, tok, err := t.lookup(ctx, v)
	if errors.Is(err, errBadToken) {
		return nil
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(h, tok.Hash) == 1 || tok.PrevHash != nil && subtle.ConstantTimeCompare(h, tok.PrevHash) == 1 {
		return t.store.Delete(ctx, sel)
	}
	return nil
}

func (t *storeTokens) revokeUser(ctx context.Context, id string) error {
	_, err := t.store.DeleteUser(ctx, id)
	return err
}

// signedTokens is seshat's storeless token: "s1.<b64 user id>.<expiry
// unix>.<generation>.<b64 HMAC-SHA256>". It cannot be rotated or revoked
// one by one; Config.Generation revokes all of a user's at once.
type signedTokens struct {
	m    *Manager
	keys [][]byte
	gen  func(ctx context.Context, userID string) (uint64, error)
}

const signedPrefix = "s1."

func (t *signedTokens) mac(key []byte, body string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("seshat.login.remember\x00"))
	h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func (t *signedTokens) generation(ctx context.Context, id string) (uint64, error) {
	if t.gen == nil {
		return 0, nil
	}
	return t.gen(ctx, id)
}

func (t *signedTokens) issue(ctx context.Context, id string, expires time.Time) (string, error) {
	g, err := t.generation(ctx, id)
	if err != nil {
		return "", err
	}
	body := signedPrefix + base64.RawURLEncoding.EncodeToString([]byte(id)) + "." + strconv.FormatInt(expires.Unix(), 10) + "." + strconv.FormatUint(g, 10)
	return body + "." + t.mac(t.keys[len(t.keys)-1], body), nil
}

// verify returns the user id of a valid token.
func (t *signedTokens) verify(ctx context.Context, v string) (string, error) {
	i := strings.LastIndexByte(v, '.')
	if !strings.HasPrefix(v, signedPrefix) || i < 0 {
		return "", errBadToken
	}
	body, sig := v[:i], v[i+1:]
	ok := false
	for _, k := range t.keys {
		if hmac.Equal([]byte(t.mac(k, body)), []byte(sig)) {
			ok = true
		}
	}
	if !ok {
		return "", errBadToken
	}
	parts := strings.Split(body[len(signedPrefix):], ".")
	if len(parts) != 3 {
		return "", errBadToken
	}
	idb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	g, err3 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || !time.Unix(exp, 0).After(t.m.cfg.Now()) {
		return "", errBadToken
	}
	id := string(idb)
	cur, err := t.generation(ctx, id)
	if err != nil {
		return "", fmt.Errorf("login: Generation: %w", err)
	}
	if g != cur {
		return "", errBadToken
	}
	return id, nil
}

func (t *signedTokens) use(ctx context.Context, v string) (string, string, time.Time, error) {
	id, err := t.verify(ctx, v)
	return id, "", time.Time{}, err
}

func (t *signedTokens) refresh(ctx context.Context, v string, expires time.Time) (string, error) {
	id, err := t.verify(ctx, v)
	if err != nil {
		return "", nil
	}
	return t.issue(ctx, id, expires)
}

func (*signedTokens) revoke(context.Context, string) error { return nil }

func (*signedTokens) revokeUser(context.Context, string) error { return ErrNotRevocable }
