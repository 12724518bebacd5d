//go:build unix

// Package cputime reads the CPU time the process has used, so benchmarks
// can report CPU per operation beside wall time: on a machine shared with
// other work, wall time counts the time other processes held the CPU, and
// CPU time mostly does not.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user plus system CPU time the process has used so
// far, over all its threads (the garbage collector's included), or 0 when
// it cannot be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
