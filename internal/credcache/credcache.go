// Package credcache is a bounded, concurrency-safe cache of values keyed
// by a secret-keyed digest of a credential: what a server computed from a
// credential it verified (a decoded session, say), served again when the
// same credential comes back, without the decryption or signature check.
//
// Every operation does a bounded amount of work, whatever the number of
// entries (amortised: a table that doubles or halves moves its entries
// once): a lookup is a hash and a read of the table cell it points to,
// where the entry's value is held inline, under a shard's read lock; an
// insert evicts with a CLOCK hand that looks at a bounded number of
// entries; expired entries are reclaimed by that same hand as inserts
// move it, so no goroutine runs in the background and nothing needs
// closing.
//
// While a shard has room, every key is admitted at once: a credential
// presented twice is served from the cache the second time. Once a shard
// is full, a new key is admitted only if it has been asked for more often
// than the entry it would evict (TinyLFU): each shard keeps a count-min
// sketch of 4-bit counters, bumped by every Put and by the first Get of an
// entry since the CLOCK hand last passed it, and halved every ten times
// as many bumps as it has counters, so that it counts recent requests. A
// scan of credentials each presented once cannot flush the entries that
// requests keep coming back to; and when the cache cannot hold the working
// set (requests spread evenly over more credentials than it holds), a
// candidate seldom beats the entry it would replace, so a miss costs a
// lookup and a few counter updates, not a copy and an eviction. Verified
// goes further in that case: while too few of a kind of credential are
// found, it steps aside for all but one of its requests in 64 (see gate).
package credcache

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Key identifies a credential in a Cache: a 128-bit digest computed by a
// Hasher under two secret random seeds. The zero Key is valid.
type Key struct{ hi, lo uint64 }

// String returns k in hexadecimal, as a map key or a flight's name.
func (k Key) String() string {
	b := make([]byte, 0, 32)
	b = strconv.AppendUint(b, k.hi, 16)
	b = append(b, '.')
	return string(strconv.AppendUint(b, k.lo, 16))
}

// tailBytes is how many trailing bytes of a credential the second half of
// its Key reads.
const tailBytes = 64

// Hasher computes Keys. Its seeds are drawn at random when it is made and
// never leave the process, so a client can neither compute a Key nor aim
// for one. Safe for concurrent use.
type Hasher struct{ a, b maphash.Seed }

// NewHasher returns a Hasher with fresh random seeds.
func NewHasher() Hasher { return Hasher{a: maphash.MakeSeed(), b: maphash.MakeSeed()} }

// Sum returns the Key of the credential made of parts, in order. Its
// first half is a seeded hash of every byte of every part (and of each
// part's length, so the cut is part of the Key: the same bytes cut
// elsewhere are another credential, which costs a miss and nothing else);
// its second, a hash under another seed of the total length and the last
// 64 bytes, which for a credential hold its authenticator (an AEAD tag, a
// signature).
//
// Two credentials that differ anywhere get the same Key with probability
// about 2^-64 per pair even for a client that knows one of them but the
// seeds of neither half (maphash is built so that inputs chosen without
// the seed collide no more than random ones): a client that guesses
// 10^6 credentials a second would find one colliding with a given cached
// credential once in half a million years. Credentials issued to
// different users differ in their authenticators too, so the second half
// separates them as well. maphash is not a cryptographic MAC, so the
// guarantee that matters is this one: to be served another user's cached
// session a client must present bytes whose Key equals that user's, and
// both halves depend on that user's credential, which the client does not
// have (with it, it could present the credential itself). A collision
// with a credential of its own serves it only its own session.
//
// Every byte is read because nothing less keeps the match exact: an
// authenticator binds the bytes before it only once it has been checked,
// and a hit is what skips the check, so a key that left bytes out would
// serve a cached session to a credential that differs from the cached one
// where the key does not look (a spliced chunk, say). The first half
// hashes each part in one pass of the runtime's string hash
// (maphash.Comparable: about 0.08 µs for 3 KB, against 0.3 for
// maphash.String, which hashes 128 bytes at a time); comparing with a
// copy held in the entry would cost about as much but the credential's
// length in memory per entry.
func (h Hasher) Sum(parts []string) Key {
	return Key{hi: h.whole(parts), lo: h.tail(parts)}
}

func (h Hasher) whole(parts []string) uint64 {
	if len(parts) == 1 {
		return maphash.Comparable(h.a, parts[0])
	}
	var d maphash.Hash
	d.SetSeed(h.a)
	for _, p := range parts {
		maphash.WriteComparable(&d, p)
	}
	return d.Sum64()
}

func (h Hasher) tail(parts []string) uint64 {
	var buf [tailBytes + 8]byte
	return maphash.Bytes(h.b, appendTail(buf[:0], parts))
}

// appendTail appends to b, which has room for tailBytes+8 bytes, the last
// tailBytes bytes of the concatenation of parts and its length.
func appendTail(b []byte, parts []string) []byte {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	b = b[:tailBytes]
	n := 0
	for i := len(parts) - 1; i >= 0 && n < tailBytes; i-- {
		p := parts[i]
		take := min(len(p), tailBytes-n)
		copy(b[tailBytes-n-take:], p[len(p)-take:])
		n += take
	}
	copy(b, b[tailBytes-n:])
	return binary.LittleEndian.AppendUint64(b[:n], uint64(total))
}

const (
	shardCount = 16
	// clockSpan is the most entries the CLOCK hand passes over to find a
	// victim; past it, the entry under the hand goes whether it was used
	// or not.
	clockSpan = 16
	// sweepStep is how many entries each insert inspects for expiry,
	// beyond what eviction needs, so that expired entries are reclaimed
	// even while the cache has room.
	sweepStep = 2
	// sketchSlotBytes sizes the frequency sketch: one counter a row for
	// every this many bytes of budget.
	sketchSlotBytes = 256
)

// Cache maps Keys to values of type V within a memory budget. The values
// it returns are shared with other callers: a V holding pointers must
// point to data nobody changes. Safe for concurrent use. A nil *Cache is a
// disabled cache: it holds nothing.
type Cache[V any] struct {
	budget int64 // bytes per shard
	shards [shardCount]shard[V]
}

type shard[V any] struct {
	mu      sync.RWMutex
	table   table[V]
	hand    int          // a cell of table
	used    atomic.Int64 // bytes held; written under mu
	freq    sketch
	hits    atomic.Uint64
	miss    atomic.Uint64
	evicted atomic.Uint64 // valid entries dropped for room
}

// New returns a cache that holds entries of at most budget bytes in all,
// as their sizes are declared to Put, or nil (disabled) for a budget of 0
// or less.
func New[V any](budget int) *Cache[V] {
	if budget <= 0 {
		return nil
	}
	c := &Cache[V]{budget: max(int64(budget)/shardCount, 1)}
	counters := int64(c.budget) / sketchSlotBytes
	for i := range c.shards {
		c.shards[i].freq = newSketch(counters)
	}
	return c
}

func (c *Cache[V]) shard(k Key) *shard[V] { return &c.shards[k.lo%shardCount] }

// Get returns the value of k, if it is held and still valid at now.
func (c *Cache[V]) Get(k Key, now time.Time) (v V, ok bool) {
	if c == nil {
		return v, false
	}
	sh := c.shard(k)
	sh.mu.RLock()
	if p := sh.table.find(k); p >= 0 {
		e := &sh.table.cells[p]
		if now.UnixNano() < e.until {
			v, ok = e.val, true
			if atomic.LoadUint32(&e.ref) == 0 {
				atomic.StoreUint32(&e.ref, 1)
				sh.freq.add(k)
			}
		}
	}
	sh.mu.RUnlock()
	if ok {
		sh.hits.Add(1)
	} else {
		sh.miss.Add(1)
	}
	return v, ok
}

// Put holds the value that mk makes for k, declared to take size bytes,
// until until, and reports whether it did. mk runs only if the entry is
// admitted, outside the cache's locks: it can make the copy that the
// cache is to hold. A key already held gets the new value.
func (c *Cache[V]) Put(k Key, size int, until, now time.Time, mk func() V) bool {
	return c.put(k, size, until, now, false, mk)
}

// put is Put; with force, a key is admitted whatever the sketch says.
func (c *Cache[V]) put(k Key, size int, until, now time.Time, force bool, mk func() V) bool {
	untilNS, nowNS := until.UnixNano(), now.UnixNano()
	if c == nil || int64(size) > min(c.budget, math.MaxInt32) || untilNS <= max(nowNS, 0) {
		return false
	}
	sh := c.shard(k)
	sh.freq.add(k)
	if !force && !sh.admit(k, int64(size), c.budget, nowNS) {
		return false
	}
	v := mk()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.shrink()
	sh.sweep(nowNS)
	if p := sh.table.find(k); p >= 0 {
		sh.remove(p)
	}
	for sh.used.Load()+int64(size) > c.budget && sh.table.n > 0 {
		sh.evict(nowNS)
	}
	sh.table.insert(entry[V]{key: k, until: untilNS, size: int32(size), val: v})
	sh.used.Add(int64(size))
	return true
}

// admit reports whether a key of size bytes enters the shard: at once
// while there is room or the key is held already, and otherwise only if
// the sketch counts it more often than the entry the hand would evict
// first (an expired one always gives way).
func (sh *shard[V]) admit(k Key, size, budget, now int64) bool {
	if sh.used.Load()+size <= budget {
		return true
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.table.n == 0 || sh.table.find(k) >= 0 {
		return true
	}
	sh.shrink()
	v := &sh.table.cells[sh.victim(now)]
	return v.until <= now || sh.freq.estimate(k) > sh.freq.estimate(v.key)
}

// Delete forgets k.
func (c *Cache[V]) Delete(k Key) {
	if c == nil {
		return
	}
	sh := c.shard(k)
	sh.mu.Lock()
	if p := sh.table.find(k); p >= 0 {
		sh.remove(p)
	}
	sh.mu.Unlock()
}

// shrink shrinks a sparse table (see table.shrink), so that the hand
// passes few empty cells. sh.mu must be held.
func (sh *shard[V]) shrink() {
	if sh.table.shrink() {
		sh.hand = 0
	}
}

// next moves the hand to the first cell in use from where it is, and
// returns it. sh.mu must be held, and the shard not empty.
func (sh *shard[V]) next() int {
	cells := sh.table.cells
	h := sh.hand & (len(cells) - 1)
	for cells[h].until == 0 {
		h = (h + 1) & (len(cells) - 1)
	}
	sh.hand = h
	return h
}

// sweep moves the hand over sweepStep entries, reclaiming expired ones.
// sh.mu must be held.
func (sh *shard[V]) sweep(now int64) {
	for range sweepStep {
		if sh.table.n == 0 {
			return
		}
		if p := sh.next(); sh.table.cells[p].until <= now {
			sh.remove(p) // the cell may now hold an entry shifted back
		} else {
			sh.hand++
		}
	}
}

// victim moves the hand to the entry to evict next, and returns its cell:
// the first expired or unreferenced one the hand finds within clockSpan
// entries, clearing the reference bits it passes, or else the one under
// the hand. sh.mu must be held, and the shard not empty.
func (sh *shard[V]) victim(now int64) int {
	for range clockSpan {
		e := &sh.table.cells[sh.next()]
		if e.until <= now || atomic.LoadUint32(&e.ref) == 0 {
			break
		}
		atomic.StoreUint32(&e.ref, 0)
		sh.hand++
	}
	return sh.next()
}

// evict removes the victim, counting it unless it had expired. sh.mu
// must be held, and the shard not empty.
func (sh *shard[V]) evict(now int64) {
	p := sh.victim(now)
	if sh.table.cells[p].until > now {
		sh.evicted.Add(1)
	}
	sh.remove(p)
}

// remove drops the entry in cell p. sh.mu must be held.
func (sh *shard[V]) remove(p int) {
	sh.used.Add(-int64(sh.table.cells[p].size))
	sh.table.remove(p)
}

// full reports whether the entries' sizes add up to more than 7/8 of the
// budget.
func (c *Cache[V]) full() bool {
	var used int64
	for i := range c.shards {
		used += c.shards[i].used.Load()
	}
	return used > c.budget*shardCount/8*7
}

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	Entries   int    // entries held, expired ones not yet reclaimed included
	Bytes     int64  // their declared sizes, summed
	Hits      uint64 // Gets that found a valid entry
	Misses    uint64 // Gets that did not
	Evictions uint64 // valid entries dropped to make room for others
}

// Stats returns the cache's counters. The zero Stats for a nil Cache.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	if c == nil {
		return st
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		st.Entries += sh.table.n
		sh.mu.RUnlock()
		st.Bytes += sh.used.Load()
		st.Hits += sh.hits.Load()
		st.Misses += sh.miss.Load()
		st.Evictions += sh.evicted.Load()
	}
	return st
}
