package credcache

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestSketch(t *testing.T) {
	h := NewHasher()
	key := func(i int) Key { return h.Sum([]string{fmt.Sprint("k", i)}) }
	tests := []struct {
		name  string
		adds  int // of key 0
		other int // keys 1…other, once each
		want  uint64
		exact bool // else at least want
	}{
		{"unseen", 0, 0, 0, true},
		{"counted", 5, 0, 5, true},
		{"saturates at 15", 40, 0, 15, true},
		{"others only add to it", 3, 500, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSketch(1024)
			for range tt.adds {
				s.add(key(0))
			}
			for i := 1; i <= tt.other; i++ {
				s.add(key(i))
			}
			got := s.estimate(key(0))
			if got < tt.want || tt.exact && got != tt.want {
				t.Fatalf("got %d, want %d (exact %v)", got, tt.want, tt.exact)
			}
		})
	}
}

// Counts are halved once the sketch has taken sketchSample bumps a
// counter, so that old popularity fades.
func TestSketchHalves(t *testing.T) {
	h := NewHasher()
	s := newSketch(64)
	hot := h.Sum([]string{"hot"})
	for range 12 {
		s.add(hot)
	}
	for i := 0; uint64(i) < s.reset-12; i++ { // the bump that completes a sample halves
		s.add(h.Sum([]string{fmt.Sprint("cold", i)}))
	}
	if got := s.estimate(hot); got < 6 || got > 7 {
		t.Fatalf("got %d after halving 12 and a few collisions, want 6 or 7", got)
	}
}

// When requests spread evenly over many more keys than the cache holds,
// few misses replace an entry: no entry is worth more than another, and
// each replacement would cost a copy and an eviction for nothing.
func TestCacheUniformOverflowAdmitsFew(t *testing.T) {
	const budget, size, keys = 256 << 10, 1000, 5000 // about 256 entries
	c := New[int](budget)
	h := NewHasher()
	ks := make([]Key, keys)
	for i := range ks {
		ks[i] = h.Sum([]string{fmt.Sprint("k", i)})
	}
	r := rand.New(rand.NewPCG(1, 2))
	misses, admitted := 0, 0
	for n := range 200000 {
		k := ks[r.IntN(keys)]
		if _, ok := c.Get(k, t0); ok {
			continue
		}
		put := c.Put(k, size, t0.Add(time.Hour), t0, func() int { return 1 })
		if n >= 50000 { // once full and settled
			misses++
			if put {
				admitted++
			}
		}
	}
	t.Logf("admitted %d of %d misses", admitted, misses)
	if admitted*20 > misses {
		t.Fatalf("admitted %d of %d misses, want at most 5%%", admitted, misses)
	}
}

// A key asked for often enough displaces entries that are not: once the
// working set shifts, the cache follows it.
func TestCacheAdmitsFrequent(t *testing.T) {
	const budget, size = 256 << 10, 1000
	c := New[int](budget)
	h := NewHasher()
	fill(c, h, "old", 300, size, t0)
	fresh := make([]Key, 100)
	for i := range fresh {
		fresh[i] = h.Sum([]string{fmt.Sprint("new", i)})
	}
	for range 12 { // the new working set, requested again and again
		for _, k := range fresh {
			if _, ok := c.Get(k, t0); !ok {
				c.Put(k, size, t0.Add(time.Hour), t0, func() int { return 2 })
			}
		}
	}
	held := 0
	for _, k := range fresh {
		if _, ok := c.Get(k, t0); ok {
			held++
		}
	}
	if held < len(fresh)*8/10 {
		t.Fatalf("got %d of %d frequent keys held, want at least 80%%", held, len(fresh))
	}
}
