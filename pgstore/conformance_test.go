package pgstore

import (
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	pool := testPool(t, "seshat-pgstore-conformance", nil)
	storetest.Run(t, func(t *testing.T) seshat.Store {
		return newTestStore(t, pool, Options{})
	})
}
