package credcache

import "time"

// Verified remembers what credentials that verified yielded, so that a
// credential presented again skips its decryption or signature check and
// its decoding. Entries are keyed by a Hasher's digest, never by the
// credential's bytes: an entry does not hold the credential, and a
// credential that differs from a cached one in any byte misses (see
// Hasher.Sum for the odds). Each entry is tagged with the decoder that
// verified it and the generation of the keys it used, and answers only a
// lookup with the same tag and generation.
//
// While the cache cannot pay for itself (full, and seldom hit: see gate),
// most requests skip it: Key returns a key that Get and Put ignore.
//
// It is safe for concurrent use; a nil *Verified is a disabled cache that
// holds nothing and computes no keys.
type Verified[V any] struct {
	hash    Hasher
	entries *Cache[tagged[V]]
	gate    gate
}

// tagged is an entry of a Verified: its value and how it was verified.
type tagged[V any] struct {
	tag string
	gen uint64
	v   V
}

// CredKey is a credential's Key and length, computed once for a request's
// lookup and, on a miss, its insertion; or, for a request that skips the
// cache, a mark that makes Get miss and Put do nothing.
type CredKey struct {
	Key  Key
	Len  int
	skip bool
}

// NewVerified returns a Verified holding at most budget bytes, or nil
// (disabled) for a budget of 0 or less.
func NewVerified[V any](budget int) *Verified[V] {
	if budget <= 0 {
		return nil
	}
	return &Verified[V]{hash: NewHasher(), entries: New[tagged[V]](budget)}
}

// Key returns the key of the credential made of parts, a digest of every
// byte; the zero CredKey for a disabled cache, and a key marked to skip
// the cache, computing no digest, for a request the gate turns away.
func (c *Verified[V]) Key(parts []string) CredKey {
	if c == nil {
		return CredKey{}
	}
	if c.gate.skip() {
		return CredKey{skip: true}
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return CredKey{Key: c.hash.Sum(parts), Len: n}
}

// Get returns the value cached for the credential keyed k, verified by the
// decoder tag with key generation gen, if it is still valid at now.
func (c *Verified[V]) Get(tag string, gen uint64, k CredKey, now time.Time) (v V, ok bool) {
	if c == nil || k.skip {
		return v, false
	}
	e, ok := c.entries.Get(k.Key, now)
	if !ok || c.gate.aside.Load() {
		c.gate.maybeReview(c.entries.offered, c.entries.full)
	}
	if !ok || e.tag != tag || e.gen != gen {
		return v, false
	}
	return e.v, true
}

// Aside reports whether the cache is stepping aside (see gate).
func (c *Verified[V]) Aside() bool { return c != nil && c.gate.aside.Load() }

// Put caches the value mk makes for the credential keyed k, verified by
// tag with generation gen, declared to take size bytes, until until. mk
// runs only if the cache admits the entry.
func (c *Verified[V]) Put(tag string, gen uint64, k CredKey, size int, until, now time.Time, mk func() V) {
	if c == nil || k.skip {
		return
	}
	c.entries.Put(k.Key, size, until, now, func() tagged[V] { return tagged[V]{tag, gen, mk()} })
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
