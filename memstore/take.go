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
	i := sh.find(h, key)
	if i < 0 || sh.slots[i].expires <= now {
		return nil, false, nil
	}
	for rest := sh.blob(i); len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return nil, false, errCorrupt
		}
		if string(k) == name {
			v = bytes.Clone(v)
			sl := sh.slots[i]
			off := begin(sh, key, sh.user(i))
			var sp shape
			var err error
			if sh.arena, sp, err = appendMerge(sh.arena, sh.blob(i), &seshat.Change{Delete: []string{name}}); err != nil {
				sh.arena = sh.arena[:off]
				return nil, false, err
			}
			if err := sh.commit(h, i, off, len(key), int(sl.ulen), sp, sl.expires); err != nil {
				return nil, false, err
			}
			sh.compact()
			return v, true, nil
		}
		rest = r
	}
	return nil, false, nil
}
