//go:build unix

package sqlitestore

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used: on a
// loaded machine it measures an operation's cost better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
