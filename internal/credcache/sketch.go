package credcache

import (
	"math/bits"
	"sync/atomic"
)

const (
	// sketchRows is how many counters a key has, one a row; its estimate
	// is the least of them.
	sketchRows = 4
	// sketchSample is how many bumps, per counter of a row, the sketch
	// takes between two halvings.
	sketchSample = 10
	// nibbles is how many 4-bit counters a word packs.
	nibbles = 16
)

// sketch is a count-min sketch of 4-bit counters, packed sixteen to an
// atomic word, that forgets: every sketchSample bumps a counter of a row
// has on average, all counters are halved. Safe for concurrent use; a
// bump races with a halving only to the extent of one count.
type sketch struct {
	words []atomic.Uint64
	shift uint // 64 minus the bits of a counter's index
	bumps atomic.Uint64
	reset uint64 // bumps between halvings
}

// newSketch returns a sketch of about counters counters a row (a power
// of two, 64 to 2^20).
func newSketch(counters int64) sketch {
	n := int64(64)
	for n < counters && n < 1<<20 {
		n *= 2
	}
	return sketch{
		words: make([]atomic.Uint64, n/nibbles),
		shift: uint(64 - bits.TrailingZeros64(uint64(n))),
		reset: uint64(n) * sketchSample,
	}
}

// counter returns the word and the bit offset of k's counter in row i.
// Rows are indexed by a multiplicative hash of k under a row's own odd
// constant, so that keys sharing a counter in one row seldom share one
// in another.
func (s *sketch) counter(k Key, i int) (*atomic.Uint64, uint) {
	h := (k.hi ^ bits.RotateLeft64(k.lo, 17*i)) * rowMul[i]
	c := h >> s.shift
	return &s.words[c/nibbles], uint(c%nibbles) * 4
}

var rowMul = [sketchRows]uint64{0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0xd6e8feb86659fd93}

// add counts one request for k, saturating at 15.
func (s *sketch) add(k Key) {
	for i := range sketchRows {
		w, off := s.counter(k, i)
		for {
			old := w.Load()
			if old>>off&15 == 15 || w.CompareAndSwap(old, old+1<<off) {
				break
			}
		}
	}
	if s.bumps.Add(1)%s.reset == 0 {
		s.halve()
	}
}

// estimate returns how many requests for k the sketch counts: at least
// as many as it was told of since the last halving, halved since.
func (s *sketch) estimate(k Key) uint64 {
	least := uint64(15)
	for i := range sketchRows {
		w, off := s.counter(k, i)
		least = min(least, w.Load()>>off&15)
	}
	return least
}

// halve halves every counter. It runs once every reset bumps, so that its
// cost, a pass over the words, is a constant share of each bump's.
func (s *sketch) halve() {
	for i := range s.words {
		w := &s.words[i]
		for {
			old := w.Load()
			if w.CompareAndSwap(old, old>>1&0x7777777777777777) {
				break
			}
		}
	}
}
