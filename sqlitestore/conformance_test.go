package sqlitestore

import (
	"testing"

	"github.com/seshat-go/seshat"
	"github.com/seshat-go/seshat/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seshat.Store {
		return newTestStore(t, Options{})
	})
}

func TestConformanceMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the file-backed run covers the same code; too slow under the race detector")
	}
	storetest.Run(t, func(t *testing.T) seshat.Store {
		s, err := Open(t.Context(), ":memory:", Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
