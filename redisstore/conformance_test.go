package redisstore

import (
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

// TestConformance runs the shared store suite on the shared single-node
// Redis, each case under a prefix of its own.
func TestConformance(t *testing.T) {
	c := sharedClient(t)
	storetest.Run(t, func(t *testing.T) seshat.Store {
		return New(c, Options{Prefix: testPrefix(t, c)})
	})
}
