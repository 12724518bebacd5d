//go:build !unix

// Package cputime reads the CPU time the process has used, so benchmarks
// can report CPU per operation beside wall time.
package cputime

import "time"

// Process returns 0: the process's CPU time is read on Unix only.
func Process() time.Duration { return 0 }
