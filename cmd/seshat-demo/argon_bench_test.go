package main

import "testing"

// BenchmarkHashPassword measures one signup's hash at the default cost.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		hashPassword("correct horse battery staple", defaultArgon)
	}
}
