//go:build unix

package sessionkit

import (
	"syscall"
	"time"
)

// processCPU returns the user plus system CPU time the process has used,
// over all its threads (the garbage collector's included), or 0. On a
// shared machine it is steadier per operation than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
