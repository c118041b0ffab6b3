//go:build !unix

package pgstore

import "time"

func cpuTime() time.Duration { return 0 }
