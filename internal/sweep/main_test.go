package sweep

import (
	"testing"

	"github.com/seshat-go/seshat/internal/leakcheck"
)

// TestMain fails the run when a goroutine outlives the tests: the loop must
// return when its context ends.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
