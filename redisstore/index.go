package redisstore

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seshat-go/seshat"
)

// batch is how many keys one pipeline or SCAN step handles.
const batch = 500

// ListByUser returns the live sessions of userID, soonest to expire first,
// from the user's index: one ZRANGE, then one pipelined HMGET per 500
// sessions to check each record's owner and expiry. Index members whose
// record is gone, expired or owned by someone else are pruned on the way
// (best effort).
func (s *Store) ListByUser(ctx context.Context, userID string) ([]seshat.SessionInfo, error) {
	ix := s.indexKey(userID)
	members, err := s.c.ZRange(ctx, ix, 0, -1).Result()
	if err != nil {
		return nil, fail("list user sessions", "", err)
	}
	now := s.now()
	var out []seshat.SessionInfo
	var stale []string
	for chunk := range slices.Chunk(members, batch) {
		pipe := s.c.Pipeline()
		cmds := make([]*redis.SliceCmd, len(chunk))
		for i, m := range chunk {
			cmds[i] = pipe.HMGet(ctx, s.sessionKey(m), fieldUID, fieldExp)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fail("list user sessions", "", err)
		}
		for i, m := range chunk {
			uid, exp, ok := meta(cmds[i].Val())
			if !ok || uid != userID || !exp.After(now) {
				stale = append(stale, m)
				continue
			}
			out = append(out, seshat.SessionInfo{Key: m, UserID: uid, Expires: exp})
		}
	}
	s.prune(ctx, ix, stale, now)
	slices.SortFunc(out, func(a, b seshat.SessionInfo) int {
		return cmp.Or(a.Expires.Compare(b.Expires), strings.Compare(a.Key, b.Key))
	})
	return out, nil
}

// RevokeUser deletes every session of userID listed in the user's index and
// returns how many live sessions it deleted. Each record is deleted by a
// script only if it still names userID as its owner, so a session that
// changed hands meanwhile survives; the index entries are then removed. A
// session created for userID while RevokeUser runs may survive it.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	ix := s.indexKey(userID)
	members, err := s.c.ZRange(ctx, ix, 0, -1).Result()
	if err != nil {
		return 0, fail("revoke user sessions", "", err)
	}
	now := s.now()
	n := 0
	for chunk := range slices.Chunk(members, batch) {
		pipe := s.c.Pipeline()
		cmds := make([]*redis.Cmd, len(chunk))
		for i, m := range chunk {
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT.
			cmds[i] = revokeScript.Eval(ctx, pipe, []string{s.sessionKey(m)}, userID, ms(now))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return n, fail("revoke user sessions", "", err)
		}
		for _, c := range cmds {
			if v, _ := c.Int(); v == 1 {
				n++
			}
		}
		if err := s.removeMembers(ctx, ix, chunk, now); err != nil {
			return n, fail("revoke user sessions", "", err)
		}
	}
	return n, nil
}

// prune removes members from the index ix, ignoring failures: a member left
// behind is checked again by the next reader.
func (s *Store) prune(ctx context.Context, ix string, members []string, now time.Time) {
	for chunk := range slices.Chunk(members, batch) {
		_ = s.removeMembers(ctx, ix, chunk, now)
	}
}

func (s *Store) removeMembers(ctx context.Context, ix string, members []string, now time.Time) error {
	if len(members) == 0 {
		return nil
	}
	args := make([]any, 0, 2+len(members))
	args = append(args, "r", ms(now))
	for _, m := range members {
		args = append(args, m)
	}
	return s.runScript(ctx, indexScript, []string{ix}, args...).Err()
}

// meta reads the reply of HMGET m:uid m:exp.
func meta(vals []any) (uid string, exp time.Time, ok bool) {
	if len(vals) != 2 {
		return "", time.Time{}, false
	}
	uid, _ = vals[0].(string)
	raw, isStr := vals[1].(string)
	if !isStr {
		return "", time.Time{}, false
	}
	e, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return uid, time.UnixMilli(e), true
}

// Iterate calls fn for every live session under the store's prefix. It is a
// full walk of the keyspace: SCAN (on every master of a cluster) with a MATCH
// on the prefix, then one pipelined HMGET per batch of keys for the owner
// and expiry, so its cost grows with the whole database, not with the
// number of sessions. Use ListByUser to find one user's sessions.
//
// fn is never called concurrently. Sessions created or deleted during the
// walk may or may not be seen; a session is never reported twice within one
// node's walk unless Redis rehashes meanwhile (SCAN's guarantee). Iterate
// stops at the first error from fn and returns it.
func (s *Store) Iterate(ctx context.Context, fn func(seshat.SessionInfo) error) error {
	pattern := escapeGlob(s.prefix+"s:") + "*"
	var (
		mu      sync.Mutex // serializes fn across cluster nodes
		stopped error      // fn's error, which ends every node's walk
	)
	walk := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.ScanType(ctx, cursor, pattern, batch, "hash").Result()
			if err != nil {
				return fail("iterate", "", err)
			}
			if len(keys) > 0 {
				pipe := c.Pipeline()
				cmds := make([]*redis.SliceCmd, len(keys))
				for i, k := range keys {
					cmds[i] = pipe.HMGet(ctx, k, fieldUID, fieldExp)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					return fail("iterate", "", err)
				}
				now := s.now()
				mu.Lock()
				for i, k := range keys {
					if stopped != nil {
						break
					}
					uid, exp, ok := meta(cmds[i].Val())
					if !ok || !exp.After(now) {
						continue
					}
					stopped = fn(seshat.SessionInfo{Key: strings.TrimPrefix(k, s.prefix+"s:"), UserID: uid, Expires: exp})
				}
				err := stopped
				mu.Unlock()
				if err != nil {
					return err
				}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		return forEachNode(ctx, walk, c.ForEachMaster)
	case *redis.Ring:
		return forEachNode(ctx, walk, c.ForEachShard)
	default:
		return walk(ctx, s.c)
	}
}

// forEachNode runs walk on each node that each visits, stopping the other
// walks at the first error.
func forEachNode(ctx context.Context, walk func(context.Context, redis.UniversalClient) error,
	each func(context.Context, func(context.Context, *redis.Client) error) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := each(ctx, func(ctx context.Context, node *redis.Client) error {
		if err := walk(ctx, node); err != nil {
			cancel(err)
			return err
		}
		return nil
	})
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		return cause
	}
	if err != nil {
		return fail("iterate", "", err)
	}
	return nil
}

// escapeGlob quotes the characters SCAN's MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
