package memstore_test

import (
	"testing"

	"github.com/seshat-go/seshat/internal/leakcheck"
)

// TestMain fails the run when a goroutine outlives the tests: the background
// sweeper (Options.SweepInterval) must stop on Close.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
