package memstore

import (
	"context"

	"github.com/seshat-go/seshat"
)

var _ seshat.Taker = (*Store)(nil)

// Take removes the value name from the record under key and returns it,
// under the shard's lock: of concurrent Takes of one value exactly one gets
// it (seshat.Session.Take; flash messages show once). The record's expiry,
// owner and other values stay.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, bool, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.recs[key]
	if !s.live(e, ok) {
		return nil, false, nil
	}
	for rest := e.blob; len(rest) > 0; {
		k, v, r, ok := next(rest)
		if !ok {
			return nil, false, errCorrupt
		}
		if k == name {
			blob, shape, err := merge(e.blob, &seshat.Change{Delete: []string{name}})
			if err != nil {
				return nil, false, err
			}
			e.blob, e.shape = blob, shape
			sh.recs[key] = e
			return []byte(v), true, nil
		}
		rest = r
	}
	return nil, false, nil
}
