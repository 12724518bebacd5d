package credcache

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// A gate lets a Verified step aside, for one tag, while caching its
// credentials cannot pay. When the cache is full and too few of the tag's
// credentials that verified were found in it (requests spread evenly over
// many more credentials than it holds), every request pays for a key, a
// lookup and a refused insert, and the rare hit saves less than that: how
// rare is rare depends on what a hit saves (a signature check is worth a
// hundred lookups; opening a 100-byte cookie, about one), hence a
// threshold a tag. While aside, one request in sampleEvery still computes
// its key and looks it up; the others skip the cache, and their
// credentials are verified as with no cache at all. A sampled credential
// that misses enters the cache only if an earlier sample saw it too (a
// small table of recent samples' keys, seen): traffic spread over far
// more credentials than the cache holds seldom repeats within it, so such
// a sample costs its key, a lookup and a write to seen, and none of the
// sketch, the shard's write lock or an eviction. A credential that has
// become frequent is seen again within a few samples and admitted without
// the sketch's say (which, bumped only by samples while aside, still
// counts the entries from before), so that its hits show in the next
// review.
//
// The gate reviews the hit ratio of the tag's credentials offered to the
// cache (a lookup that hit, or a Put after a miss) over at least
// reviewAfter of them since its last review: it steps aside when the
// cache is full and the ratio is below the tag's MinHitRatio, and back
// when it is not. A lookup that misses starts a review with probability
// 1/reviewOdds, and any lookup while aside with probability
// 1/asideReviewOdds (a review about every thousand requests, so that one
// comes soon after the samples since the last one reach reviewAfter); a
// hit while in does not, so that the path of a hit costs nothing more.
// Credentials that fail verification are never offered: a client sending
// garbage cannot move the gate. A client replaying many valid credentials
// of its own can push it aside, which costs every request of that kind
// what no cache would, no more.
type gate struct {
	aside  atomic.Bool
	min    float64    // Tag.MinHitRatio
	review sync.Mutex // held by the one running review; others skip theirs
	hits   uint64     // counts at the last review, under review
	offers uint64
	seen   []atomic.Uint64 // seenSlots fingerprints of sampled keys; nil if never aside (min <= 0)
}

const (
	sampleEvery = 64
	// seenSlots is how many recent samples' keys a gate remembers (each
	// in a slot picked by the key, so that a slot keeps its key for about
	// seenSlots samples).
	seenSlots       = 4096
	reviewOdds      = 256
	asideReviewOdds = 16
	reviewAfter     = 512
	// maxTags is how many tags a Verified gates.
	maxTags = 4
)

// skip reports whether this request leaves the cache alone.
func (g *gate) skip() bool {
	return g.aside.Load() && rand.Uint32()%sampleEvery != 0
}

// seenBefore reports whether an earlier sample saw k, and remembers k.
func (g *gate) seenBefore(k Key) bool {
	fp := k.hi | 1 // never 0, the empty slot
	return g.seen[(k.lo>>32)&(seenSlots-1)].Swap(fp) == fp
}

// maybeReview runs a review with the odds above, from the tag's counts
// since New and whether the cache is full.
func (g *gate) maybeReview(counts func() (hits, offers uint64), full func() bool) {
	odds := uint32(reviewOdds)
	if g.aside.Load() {
		odds = asideReviewOdds
	}
	if rand.Uint32()%odds != 0 || !g.review.TryLock() {
		return
	}
	defer g.review.Unlock()
	hits, offers := counts()
	dh, do := hits-g.hits, offers-g.offers
	if dh+do < reviewAfter {
		return
	}
	g.hits, g.offers = hits, offers
	g.aside.Store(full() && float64(dh) < g.min*float64(dh+do))
}

// tally counts a Verified's hits and offers by tag, striped by key so that
// concurrent requests seldom write the same cache line.
type tally struct {
	stripes [shardCount]struct {
		hits, offers [maxTags]atomic.Uint64
		_            [64]byte
	}
}

func (t *tally) hit(k Key, tag int)   { t.stripes[k.lo%shardCount].hits[tag].Add(1) }
func (t *tally) offer(k Key, tag int) { t.stripes[k.lo%shardCount].offers[tag].Add(1) }

// sums returns the hits and offers of tag since New.
func (t *tally) sums(tag int) (hits, offers uint64) {
	for i := range t.stripes {
		hits += t.stripes[i].hits[tag].Load()
		offers += t.stripes[i].offers[tag].Load()
	}
	return hits, offers
}
