package credcache

import (
	"sync/atomic"
	"time"
)

// Verified remembers what credentials that verified yielded, so that a
// credential presented again skips its decryption or signature check and
// its decoding. Entries are keyed by a Hasher's digest, never by the
// credential's bytes: an entry does not hold the credential, and a
// credential that differs from a cached one in any byte misses (see
// Hasher.Sum for the odds). Each entry is tagged with the decoder that
// verified it (one of the Tags the Verified was made with: it caches no
// other) and the generation of the keys it used, and answers only a
// lookup with the same tag and generation.
//
// While caching a tag's credentials cannot pay (the cache full, and too
// few of them found: see gate), most requests of that tag skip it: Key
// returns a key that Get and Put ignore.
//
// It is safe for concurrent use; a nil *Verified is a disabled cache that
// holds nothing and computes no keys.
type Verified[V any] struct {
	hash    Hasher
	entries *Cache[tagged[V]]
	tags    []string // by index into gates and the tally
	gates   [maxTags]gate
	tally   tally
}

// Tag names a kind of credential a Verified caches (the decoder that
// verifies it) and, in MinHitRatio, the share of its lookups that must
// hit for caching it to pay once the cache is full; below it, the tag's
// requests mostly skip the cache (see Verified).
type Tag struct {
	Name        string
	MinHitRatio float64
}

// tagged is an entry of a Verified: its value and how it was verified.
type tagged[V any] struct {
	tag uint8 // index into tags
	gen uint64
	v   V
}

// CredKey is a credential's Key and length, computed once for a request's
// lookup and, on a miss, its insertion, with the tag of the decoder that
// verifies it; or, for a request that skips the cache, a mark that makes
// Get miss and Put do nothing.
type CredKey struct {
	Key  Key
	Len  int
	tag  uint8 // index into tags
	skip bool
}

// NewVerified returns a Verified holding at most budget bytes, or nil
// (disabled) for a budget of 0 or less, that caches credentials of tags
// (at most four), each gated as its MinHitRatio says (0: never).
func NewVerified[V any](budget int, tags ...Tag) *Verified[V] {
	if budget <= 0 {
		return nil
	}
	c := &Verified[V]{hash: NewHasher(), entries: New[tagged[V]](budget)}
	for i, t := range tags[:min(len(tags), maxTags)] {
		c.tags = append(c.tags, t.Name)
		c.gates[i].min = t.MinHitRatio
		if t.MinHitRatio > 0 {
			c.gates[i].seen = make([]atomic.Uint64, seenSlots)
		}
	}
	return c
}

// tagIndex returns the index of tag, or -1.
func (c *Verified[V]) tagIndex(tag string) int {
	for i, t := range c.tags {
		if t == tag {
			return i
		}
	}
	return -1
}

// Key returns the key of the credential made of parts, to be verified by
// the decoder tag: a digest of every byte; the zero CredKey for a disabled
// cache, and a key marked to skip the cache, computing no digest, for a
// tag not declared or a request the tag's gate turns away.
func (c *Verified[V]) Key(tag string, parts []string) CredKey {
	if c == nil {
		return CredKey{}
	}
	t := c.tagIndex(tag)
	if t < 0 {
		return CredKey{skip: true}
	}
	if c.gates[t].skip() {
		return CredKey{tag: uint8(t), skip: true}
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return CredKey{Key: c.hash.Sum(parts), Len: n, tag: uint8(t)}
}

// Get returns the value cached for the credential keyed k, verified with
// key generation gen by k's decoder, if it is still valid at now.
func (c *Verified[V]) Get(gen uint64, k CredKey, now time.Time) (v V, ok bool) {
	if c == nil || k.skip {
		return v, false
	}
	e, found := c.entries.Get(k.Key, now)
	if found && e.tag == k.tag && e.gen == gen {
		v, ok = e.v, true
	}
	if g := &c.gates[k.tag]; !ok || g.aside.Load() {
		g.maybeReview(func() (uint64, uint64) { return c.tally.sums(int(k.tag)) }, c.entries.full)
	}
	if ok {
		c.tally.hit(k.Key, int(k.tag))
	}
	return v, ok
}

// Aside reports whether requests of tag are skipping the cache (see gate).
func (c *Verified[V]) Aside(tag string) bool {
	if c == nil {
		return false
	}
	t := c.tagIndex(tag)
	return t >= 0 && c.gates[t].aside.Load()
}

// Put caches the value mk makes for the credential keyed k, verified with
// key generation gen by k's decoder, declared to take size bytes, until
// until. mk runs only if the cache admits the entry: while k's tag is
// aside, only a credential that a recent sample saw too, and then whatever
// the sketch says (see gate); otherwise as Cache.Put does.
func (c *Verified[V]) Put(gen uint64, k CredKey, size int, until, now time.Time, mk func() V) {
	if c == nil || k.skip {
		return
	}
	c.tally.offer(k.Key, int(k.tag))
	g := &c.gates[k.tag]
	aside := g.aside.Load()
	if aside && !g.seenBefore(k.Key) {
		return
	}
	c.entries.put(k.Key, size, until, now, aside, func() tagged[V] { return tagged[V]{k.tag, gen, mk()} })
}

// Delete forgets the credential made of parts.
func (c *Verified[V]) Delete(parts []string) {
	if c != nil {
		c.entries.Delete(c.hash.Sum(parts))
	}
}

// Stats returns the cache's counters, all zero for a disabled cache.
func (c *Verified[V]) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	return c.entries.Stats()
}
