package flasksessionredis

import (
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	// UserIndex is skipped by the suite itself: Flask-Session's layout has
	// no per-user index (the store keeps the owner inside the record only).
	storetest.Run(t, func(t *testing.T) seshat.Store {
		c := client(t)
		return New(c, Options{Prefix: prefix(t, c)})
	})
}
