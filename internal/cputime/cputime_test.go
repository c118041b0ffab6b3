package cputime

import (
	"crypto/sha256"
	"runtime"
	"testing"
)

// TestProcessGrows checks that CPU time does not go backwards and, where
// the system reports it, moves when this process computes.
func TestProcessGrows(t *testing.T) {
	before := Process()
	sum := sha256.Sum256(nil)
	// Hash until the counter moves (its resolution may be a clock tick),
	// bounded so that a system without the counter ends the loop.
	for i := 0; i < 50_000_000 && Process() == before; i++ {
		sum = sha256.Sum256(sum[:])
	}
	after := Process()
	if after < before {
		t.Fatalf("CPU time went back from %v to %v", before, after)
	}
	if runtime.GOOS == "linux" && after == before {
		t.Fatalf("CPU time did not move from %v while hashing", before)
	}
}
