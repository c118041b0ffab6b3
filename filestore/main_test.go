package filestore_test

import (
	"testing"

	"github.com/seshat-go/seshat/internal/leakcheck"
)

// TestMain fails the run when a goroutine outlives the tests: the background
// cleaner (internal/sweep) must stop on Close.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
