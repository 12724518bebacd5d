package memstore

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// BenchmarkHeapPerRecord reports the heap a stored record costs beyond its
// Data (overhead-B/record): the entry, its indexes and its place in the
// expiry heap.
func BenchmarkHeapPerRecord(b *testing.B) {
	const n, size = 20000, 2300
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = store.Record{ID: fmt.Sprintf("%043d", i), UserID: fmt.Sprintf("user_%07d", i), ExpireAt: time.Now().Add(time.Hour), Data: make([]byte, size)}
	}
	var total uint64
	for b.Loop() {
		s, err := New(Config{MaxSessions: n})
		if err != nil {
			b.Fatal(err)
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for _, r := range recs {
			if _, err := s.Save(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		total += m1.HeapAlloc - m0.HeapAlloc
		runtime.KeepAlive(s)
		_ = s.Close()
	}
	b.ReportMetric(float64(total)/float64(b.N)/n-size, "overhead-B/record")
}
