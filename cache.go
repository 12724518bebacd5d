package sessionkit

import (
	"time"

	"github.com/sessionkit/sessionkit/internal/credcache"
)

// defaultCacheBytes is the default memory budget of the verified-credential
// cache (Config.CacheBytes): about 8,000 sessions of a typical 3 KB
// stateless cookie (4 KiB each, see entryOverhead), or about 200,000
// references of store-backed cookies (refEntryBytes and the session ID).
const defaultCacheBytes = 32 << 20

const (
	// entryOverhead approximates the bytes of a session entry beyond the
	// length of its credential: the decoded session's own struct and its
	// sign-in, the cache's slot and index. The session's strings are
	// about as long as the credential's plaintext, counted by the
	// credential's length.
	entryOverhead = 1024
	// refEntryBytes approximates the bytes of a store-backed cookie's
	// reference entry: the slot and index, beside the session ID.
	refEntryBytes = 128
)

// credCache remembers credentials that verified, so that a request that
// presents the same credential again skips the decryption or signature
// check and the decoding. Safe for concurrent use; a nil *credCache is a
// disabled cache.
//
// Entries are keyed by a 128-bit digest of the credential under secret
// random seeds (credcache.Hasher.Sum), not by its bytes: an entry does not
// hold the credential, and a credential that differs from a cached one in
// any byte misses, but with a chance of about 2^-64 per attempt for a
// client that knows neither seed, as credcache explains. A store-backed
// cookie's entry holds only its reference (the session ID and cookie
// generation): the record is read from the Store and decoded on every
// request, so that any change to it is seen at once.
//
// An entry is valid until the credential's own expiry and only for the
// source and the key-set generation that verified it. The cached session
// is shared and never mutated: each request that uses it gets a copy before
// anything can change it.
type credCache struct {
	hash    credcache.Hasher
	entries *credcache.Cache[cacheValue]
}

// cacheValue is what the cache holds for a credential.
type cacheValue struct {
	src     Source    // which decoder verified it
	gen     uint64    // the key-set generation it was verified with
	session *Session  // immutable
	ref     cookieRef // for sourceRef entries: what a store-backed cookie refers to
}

// sourceRef marks the cache entries of store-backed cookies, which hold
// only the decoded reference: the session itself is read from the Store
// on every request, so that a revocation takes effect at once.
const sourceRef Source = "store-ref"

// newCredCache returns a cache holding at most budget bytes, or nil
// (disabled) for a budget of 0 or less.
func newCredCache(budget int) *credCache {
	if budget <= 0 {
		return nil
	}
	return &credCache{hash: credcache.NewHasher(), entries: credcache.New[cacheValue](budget)}
}

// credKey is a credential's cache key and its length, computed once for
// a request's lookup and, on a miss, its insertion.
type credKey struct {
	k credcache.Key
	n int
}

// key returns the key of the credential made of parts: a digest of every
// byte (see credcache.Hasher.Sum). Without a cache it computes nothing.
func (c *credCache) key(parts []string) credKey {
	if c == nil {
		return credKey{}
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return credKey{c.hash.Sum(parts), n}
}

// lookup returns the entry of src for the credential keyed k, if it is
// still valid at now.
func (c *credCache) lookup(src Source, k credcache.Key, now time.Time) (cacheValue, bool) {
	v, ok := c.entries.Get(k, now)
	return v, ok && v.src == src
}

// get returns the session cached for the credential keyed ck, verified by
// src with key-set generation gen, if it is still valid at now.
func (c *credCache) get(src Source, gen uint64, ck credKey, now time.Time) *Session {
	if c == nil {
		return nil
	}
	if v, ok := c.lookup(src, ck.k, now); ok && v.gen == gen {
		return v.session
	}
	return nil
}

// put caches a copy of s, verified by src with generation gen from the
// credential keyed ck, until until. The copy is made only if the cache
// admits the entry.
func (c *credCache) put(src Source, gen uint64, ck credKey, s *Session, until, now time.Time) {
	if c == nil {
		return
	}
	c.entries.Put(ck.k, entryOverhead+ck.n, until, now, func() cacheValue {
		return cacheValue{src: src, gen: gen, session: s.Clone()}
	})
}

// getRef returns the reference cached for the store-backed cookie keyed
// ck.
func (c *credCache) getRef(ck credKey, now time.Time) (cookieRef, bool) {
	if c == nil {
		return cookieRef{}, false
	}
	v, ok := c.lookup(sourceRef, ck.k, now)
	return v.ref, ok
}

// putRef caches the reference of the store-backed cookie keyed ck until
// until.
func (c *credCache) putRef(ck credKey, ref cookieRef, until, now time.Time) {
	if c == nil {
		return
	}
	c.entries.Put(ck.k, refEntryBytes+len(ref.ID), until, now, func() cacheValue {
		return cacheValue{src: sourceRef, ref: ref}
	})
}

// evict forgets the credential made of parts.
func (c *credCache) evict(parts []string) {
	if c == nil {
		return
	}
	c.entries.Delete(c.hash.Sum(parts))
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

// CacheStats is a snapshot of the verified-credential cache's counters,
// as Manager.CacheStats returns them. A request makes one lookup: for a
// stateless cookie or a JWT its session, for a store-backed cookie its
// reference (the record itself is read from the Store).
type CacheStats struct {
	Entries int    // entries held, expired ones not yet reclaimed included
	Bytes   int64  // their estimated sizes, summed, within Config.CacheBytes
	Hits    uint64 // lookups that found a valid entry
	Misses  uint64 // lookups that did not
}

// CacheStats returns the counters of the verified-credential cache, all
// zero when it is off. A low share of hits while Bytes is near
// Config.CacheBytes says the budget holds fewer sessions than come back.
func (m *Manager) CacheStats() CacheStats {
	if m.cache == nil {
		return CacheStats{}
	}
	st := m.cache.entries.Stats()
	return CacheStats{Entries: st.Entries, Bytes: st.Bytes, Hits: st.Hits, Misses: st.Misses}
}
