// Package cputime reads the CPU time this process has used, for benchmarks
// that report it beside the wall clock: on a machine shared with other jobs
// an operation's wall time stretches with the load, its CPU time much less.
package cputime

import "time"

// Process returns the user + system CPU time the whole process has used
// (every thread, the garbage collector's included), or 0 where the system
// does not say.
func Process() time.Duration { return process() }
