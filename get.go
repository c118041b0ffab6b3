package seshat

import (
	"fmt"

	"github.com/seshat-go/seshat/taggedjson"
)

// Get returns the value under key converted to T. It returns an error
// wrapping ErrNotFound when the key is missing, and one wrapping
// ErrTypeMismatch when the stored value does not convert to T (the error
// names both types). Conversions: the stored type itself; numbers between
// integer and float types when the value fits exactly; []any and
// map[string]any element by element; anything else through its JSON form, so
// a struct stored with Set comes back as the same struct.
//
//	n, err := seshat.Get[int](s, "visits")
//	if errors.Is(err, seshat.ErrNotFound) { n = 0 }
func Get[T any](s *Session, key string) (T, error) {
	var zero T
	v, ok := s.Get(key)
	if !ok {
		return zero, fmt.Errorf("seshat: get %s: %w", quoteKey(key), ErrNotFound)
	}
	t, err := taggedjson.ConvertTo[T](v)
	if err != nil {
		return zero, fmt.Errorf("seshat: get %s: %w: %w", quoteKey(key), ErrTypeMismatch, err)
	}
	return t, nil
}

// GetOr returns the value under key converted to T, or def when the key is
// missing or holds another type.
func GetOr[T any](s *Session, key string, def T) T {
	t, err := Get[T](s, key)
	if err != nil {
		return def
	}
	return t
}
