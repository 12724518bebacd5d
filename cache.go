package sessionkit

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultCacheBytes is the default memory budget of the verified-credential
// cache (Config.CacheBytes).
const DefaultCacheBytes = 32 << 20

const (
	cacheShards = 16
	// entryOverhead approximates the bytes of an entry beyond its
	// credential: the decoded session, whose strings are about as long as
	// the credential's plaintext, and the bookkeeping.
	entryOverhead = 512
)

// credCache remembers credentials that verified, so that a request that
// presents the same bytes again skips the decryption or signature check
// and the decoding. An entry is found only by the exact credential bytes;
// it is valid until the credential's own expiry and only while the key set
// that verified it is unchanged; the memory it holds is capped. The cached
// session is shared and never mutated: each request that uses it gets a
// copy before anything can change it. Safe for concurrent use.
type credCache struct {
	seed   maphash.Seed
	budget int // bytes per shard
	shards [cacheShards]cacheShard
}

// cacheShard holds its entries in a sync.Map, so that a lookup takes no
// lock: requests that present the same credential on several cores do not
// contend on a shared lock word. Writers (insert, evict) serialize on mu,
// which guards bytes.
type cacheShard struct {
	mu      sync.Mutex
	entries sync.Map // uint64 hash → *cacheEntry
	bytes   int
}

func (sh *cacheShard) load(h uint64) *cacheEntry {
	v, _ := sh.entries.Load(h)
	e, _ := v.(*cacheEntry)
	return e
}

type cacheEntry struct {
	cred    string    // the exact credential: joined cookie chunks or a raw JWT
	src     Source    // which decoder verified it
	gen     uint64    // the key-set generation it was verified with
	until   time.Time // never used at or after: the credential's expiry
	session *Session  // immutable
	ref     cookieRef // for sourceRef entries: what a store-backed cookie refers to
	// st is, for sourceRecord entries, the stored state decoded with
	// session (its version and cookieGen are the request's own).
	st   *storeState
	size int
}

// sourceRef keys the cache entries of store-backed cookies, which hold only
// the decoded reference: the session itself is read from the Store on
// every request, so that a revocation takes effect at once.
const sourceRef Source = "store-ref"

// sourceRecord keys the cache entries of decoded Store records: the
// credential is the record's Data followed by its ID (the entry's st.id is
// compared too), so that a record read again byte for byte is not decoded
// again. An entry can never be stale: the Store is still read on every
// request, and any change to the record (a revocation, a touch, a
// refresh) changes its bytes.
const sourceRecord Source = "store-record"

// newCredCache returns a cache holding at most budget bytes, or nil
// (disabled) for a budget of 0 or less.
func newCredCache(budget int) *credCache {
	if budget <= 0 {
		return nil
	}
	return &credCache{seed: maphash.MakeSeed(), budget: max(budget/cacheShards, 1)}
}

// hashTail is how many trailing bytes of a credential are hashed.
const hashTail = 64

// hashParts hashes the concatenation of parts: its length and its last
// hashTail bytes. Both kinds of credential end in a MAC or a signature, so
// the tail is as unpredictable as the whole, and a lookup hashes 64 bytes
// instead of several kilobytes; equalParts then compares every byte. A
// Store record's key ends in the session's ID, which is random.
func (c *credCache) hashParts(parts []string) uint64 {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	var tail [hashTail + 8]byte
	n := 0
	for i := len(parts) - 1; i >= 0 && n < hashTail; i-- {
		p := parts[i]
		take := min(len(p), hashTail-n)
		copy(tail[hashTail-n-take:], p[len(p)-take:])
		n += take
	}
	b := tail[hashTail-n:]
	b = binary.LittleEndian.AppendUint64(b[:n:n+8], uint64(total))
	return maphash.Bytes(c.seed, b)
}

// equalParts reports whether s is the concatenation of parts.
func equalParts(s string, parts []string) bool {
	for _, p := range parts {
		if len(s) < len(p) || s[:len(p)] != p {
			return false
		}
		s = s[len(p):]
	}
	return s == ""
}

// lookup returns the entry of src for the credential made of parts, if it
// is still valid at now.
func (c *credCache) lookup(src Source, parts []string, now time.Time) *cacheEntry {
	if c == nil {
		return nil
	}
	h := c.hashParts(parts)
	e := c.shards[h%cacheShards].load(h)
	if e == nil || e.src != src || !now.Before(e.until) || !equalParts(e.cred, parts) {
		return nil
	}
	return e
}

// get returns the session cached for the credential made of parts, verified
// by src with key-set generation gen, if it is still valid at now.
func (c *credCache) get(src Source, gen uint64, parts []string, now time.Time) *Session {
	if e := c.lookup(src, parts, now); e != nil && e.gen == gen {
		return e.session
	}
	return nil
}

// getRef returns the reference cached for the store-backed cookie made of
// parts.
func (c *credCache) getRef(parts []string, now time.Time) (cookieRef, bool) {
	if e := c.lookup(sourceRef, parts, now); e != nil {
		return e.ref, true
	}
	return cookieRef{}, false
}

// putRef caches the reference of a store-backed cookie until until.
func (c *credCache) putRef(cred string, ref cookieRef, until, now time.Time) {
	if c == nil {
		return
	}
	c.insert(&cacheEntry{cred: cred, src: sourceRef, until: until, ref: ref, size: 2*len(cred) + len(ref.id) + 64}, now)
}

// getRecord returns the session and stored state cached for the Store
// record of session id whose Data is data, if it is still valid at now.
func (c *credCache) getRecord(data, id string, now time.Time) (*Session, *storeState) {
	parts := [2]string{data, id}
	if e := c.lookup(sourceRecord, parts[:], now); e != nil && e.st.id == id {
		return e.session, e.st
	}
	return nil, nil
}

// putRecord caches s and st, decoded from the record whose Data is data
// (of session st.id), until until. Neither may be changed afterwards.
func (c *credCache) putRecord(data string, s *Session, st *storeState, until, now time.Time) {
	if c == nil {
		return
	}
	cred := data + st.id
	c.insert(&cacheEntry{cred: cred, src: sourceRecord, until: until, session: s, st: st, size: 2*len(cred) + entryOverhead}, now)
}

// put caches s, verified from cred by src with generation gen, until
// until. s must not be changed afterwards.
func (c *credCache) put(src Source, gen uint64, cred string, s *Session, until time.Time, now time.Time) {
	if c == nil || !now.Before(until) {
		return
	}
	c.insert(&cacheEntry{cred: cred, src: src, gen: gen, until: until, session: s, size: 2*len(cred) + entryOverhead}, now)
}

// insert adds e, making room within the shard's budget.
func (c *credCache) insert(e *cacheEntry, now time.Time) {
	if !now.Before(e.until) || e.size > c.budget {
		return
	}
	h := c.hashParts([]string{e.cred})
	sh := &c.shards[h%cacheShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries.LoadAndDelete(h); ok {
		sh.bytes -= old.(*cacheEntry).size
	}
	if sh.bytes+e.size > c.budget {
		sh.entries.Range(func(k, v any) bool { // expired ones first
			if old := v.(*cacheEntry); !now.Before(old.until) {
				sh.bytes -= old.size
				sh.entries.Delete(k)
			}
			return true
		})
		// Then any, at random: the map's order follows the seeded hash
		// and is the same on every pass, so half the entries, drawn anew
		// each pass, are skipped; no entry is always the first to go.
		for sh.bytes+e.size > c.budget {
			seen := false
			sh.entries.Range(func(k, v any) bool {
				seen = true
				if sh.bytes+e.size <= c.budget {
					return false
				}
				if rand.N(2) == 0 {
					return true
				}
				sh.bytes -= v.(*cacheEntry).size
				sh.entries.Delete(k)
				return true
			})
			if !seen { // nothing left to evict
				sh.bytes = 0
				break
			}
		}
	}
	sh.entries.Store(h, e)
	sh.bytes += e.size
}

// evict forgets the credential made of parts.
func (c *credCache) evict(parts []string) {
	if c == nil {
		return
	}
	h := c.hashParts(parts)
	sh := &c.shards[h%cacheShards]
	sh.mu.Lock()
	if e := sh.load(h); e != nil && equalParts(e.cred, parts) {
		sh.bytes -= e.size
		sh.entries.Delete(h)
	}
	sh.mu.Unlock()
}

// cacheUntil is how long a verified session may be served from the cache:
// until it stops being active on its own.
func cacheUntil(s *Session) time.Time {
	until := s.ExpireAt
	if !s.AbandonAt.IsZero() && (until.IsZero() || s.AbandonAt.Before(until)) {
		until = s.AbandonAt
	}
	return until
}
