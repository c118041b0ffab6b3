package memstore

import (
	"bytes"
	"context"

	"github.com/seshat-go/seshat"
)

var _ seshat.Taker = (*Store)(nil)

// Take removes the value name from the record under key and returns it,
// under the shard's lock: of concurrent Takes of one value exactly one gets
// it (seshat.Session.Take; flash messages show once). The record's expiry,
// owner and other values stay.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, bool, error) {
	now := s.now().UnixNano()
	h, sh := s.locate(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.findLive(h, key, now)
	if i < 0 {
		return nil, false, nil
	}
	for rest := sh.blob(i); len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return nil, false, errCorrupt
		}
		if string(k) == name {
			v = bytes.Clone(v)
			if err := rewrite(sh, h, i, key, sh.user(i), &seshat.Change{Delete: []string{name}}, sh.slots[i].expires); err != nil {
				return nil, false, err
			}
			sh.compact()
			return v, true, nil
		}
		rest = r
	}
	return nil, false, nil
}
