package pgstore

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a goroutine outlives the tests: the
// background cleaner (internal/sweep) must stop on Close, and no store
// method may leave one behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
