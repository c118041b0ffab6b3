package storetest_test

import (
	"testing"

	"github.com/seshat-go/seshat/twofactor"
	"github.com/seshat-go/seshat/twofactor/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) twofactor.Store { return twofactor.NewMemoryStore() })
}
