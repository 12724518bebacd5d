package credcache

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// A gate lets a Verified step aside while it cannot pay for itself. When
// the cache is full and few of the credentials that verified were found
// in it (requests spread evenly over many more credentials than it
// holds), every request pays for a key, a lookup and a refused insert,
// and the rare hit saves less than that. While aside, one request in
// sampleEvery still computes its key and uses the cache; the others skip
// it, and their credentials are verified as with no cache at all.
//
// The gate reviews the hit ratio of the credentials offered to the cache
// (a lookup that hit, or a Put after a miss) over at least reviewAfter of
// them since its last review: it steps aside when the cache is full and
// fewer than one in minHitRatio hit, and back when more do or the cache
// has room. A lookup that misses, or any lookup while aside, starts a
// review with probability 1/reviewOdds; a hit does not, so that the path
// of a hit costs nothing more. Credentials that fail verification are
// never offered: a client sending garbage cannot move the gate.
type gate struct {
	aside  atomic.Bool
	review sync.Mutex // held by the one running review; others skip theirs
	hits   uint64     // counters at the last review, under review
	offers uint64
}

const (
	sampleEvery = 16
	reviewOdds  = 256
	reviewAfter = 512
	minHitRatio = 32 // aside below one hit in this many offers
)

// skip reports whether this request leaves the cache alone.
func (g *gate) skip() bool {
	return g.aside.Load() && rand.Uint32()%sampleEvery != 0
}

// maybeReview runs a review with probability 1/reviewOdds, reading the
// cache's counters with counts and fullness with full.
func (g *gate) maybeReview(counts func() (hits, offers uint64), full func() bool) {
	if rand.Uint32()%reviewOdds != 0 || !g.review.TryLock() {
		return
	}
	defer g.review.Unlock()
	hits, offers := counts()
	dh, do := hits-g.hits, offers-g.offers
	if dh+do < reviewAfter {
		return
	}
	g.hits, g.offers = hits, offers
	g.aside.Store(full() && dh*minHitRatio < dh+do)
}
