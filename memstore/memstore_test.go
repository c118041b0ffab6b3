package memstore_test

import (
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/memstore"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seshat.Store {
		return memstore.New(memstore.Options{SweepInterval: 50 * time.Millisecond})
	})
}
