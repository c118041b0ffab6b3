package filestore_test

import (
	"testing"
	"time"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/filestore"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s, err := filestore.New(t.TempDir(), filestore.Options{CleanupInterval: 50 * time.Millisecond, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
