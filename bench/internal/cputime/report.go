package cputime

import (
	"testing"
	"time"
)

// ReportPerOp reports on b the process's CPU time since start (a reading
// of Process taken before the loop) per iteration, as "cpu-ns/op". It
// reports nothing when the CPU time cannot be read.
func ReportPerOp(b *testing.B, start time.Duration) {
	if d := Process() - start; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
