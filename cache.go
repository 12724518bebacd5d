package sessionkit

import (
	"time"

	"github.com/sessionkit/sessionkit/internal/credcache"
)

// The cache's memory budget: by default about 8,000 typical 3 KB stateless
// cookies or 160,000 store-backed cookies' references. A session entry
// counts its credential's length (as long as the session's strings) plus
// entryOverhead (the session's structs and its cell in the cache's table);
// a reference entry its session ID plus refEntryBytes (its cell).
const (
	defaultCacheBytes = 32 << 20
	entryOverhead     = 1024
	refEntryBytes     = 160
)

// credCache is the verified-credential cache; nil when disabled. A cached
// session is shared and never mutated: each request copies it before any
// change. A store-backed cookie's entry holds only its reference (under
// sourceRef): the record is read from the Store on every request, so that
// any change to it is seen at once.
type credCache credcache.Verified[cacheValue]

type cacheValue struct {
	session *Session
	ref     cookieRef
	calm    int64 // unix nanoseconds; see calmUntil
}

const sourceRef Source = "store-ref"

type credKey = credcache.CredKey

// The share of a source's lookups that must hit, once the cache is full,
// for caching its credentials to pay (below it, the source's requests
// mostly skip the cache). A hit saves a signature check (tens of µs) or a
// token introspection for a bearer token, a 3 KB cookie's decryption and
// decoding (about 10 µs, measured to break even near 1 hit in 11), and
// opening a 100-byte reference (under 1 µs, near 2 hits in 3) for a
// store-backed cookie.
var cacheTags = []credcache.Tag{
	{Name: string(SourceBearer), MinHitRatio: 1.0 / 32},
	{Name: string(SourceJWTCookie), MinHitRatio: 1.0 / 32},
	{Name: string(SourceCookie), MinHitRatio: 1.0 / 8},
	{Name: string(sourceRef), MinHitRatio: 3.0 / 4},
}

// newCredCache returns a cache of budget bytes, nil for 0 or less.
func newCredCache(budget int) *credCache {
	return (*credCache)(credcache.NewVerified[cacheValue](budget, cacheTags...))
}

func (c *credCache) v() *credcache.Verified[cacheValue] {
	return (*credcache.Verified[cacheValue])(c)
}

// key returns the key of the credential made of parts, read by src.
func (c *credCache) key(src Source, parts []string) credKey { return c.v().Key(string(src), parts) }

// get returns the session cached for ck with key-set generation gen.
func (c *credCache) get(gen uint64, ck credKey, now time.Time) *Session {
	s, _ := c.lookup(gen, ck, now)
	return s
}

// lookup is get that also reports whether the session is calm at now:
// before the calm time it was put with.
func (c *credCache) lookup(gen uint64, ck credKey, now time.Time) (s *Session, calm bool) {
	e, ok := c.v().Get(gen, ck, now)
	return e.session, ok && now.UnixNano() < e.calm
}

// put caches a copy of s, made only if the cache admits the entry.
func (c *credCache) put(gen uint64, ck credKey, s *Session, until, now time.Time) {
	c.putCalm(gen, ck, s, until, now, nil)
}

// putCalm is put for a session that is calm until calm(s) (see
// calmUntil; zero, or any time before 1970, for never), which runs only if
// the cache admits the entry; a nil calm for never.
func (c *credCache) putCalm(gen uint64, ck credKey, s *Session, until, now time.Time, calm func(*Session) time.Time) {
	c.v().Put(gen, ck, entryOverhead+ck.Len, until, now, func() cacheValue {
		v := cacheValue{session: s.Clone()}
		if calm != nil {
			if t := calm(s); t.After(time.Unix(0, 0)) {
				v.calm = t.UnixNano() // after 2262 it may come out earlier, never later
			}
		}
		return v
	})
}

// getRef returns the reference cached for the store-backed cookie keyed ck.
func (c *credCache) getRef(ck credKey, now time.Time) (cookieRef, bool) {
	e, ok := c.v().Get(0, ck, now)
	return e.ref, ok
}

// putRef caches the reference of the store-backed cookie keyed ck.
func (c *credCache) putRef(ck credKey, ref cookieRef, until, now time.Time) {
	c.v().Put(0, ck, refEntryBytes+len(ref.ID), until, now, func() cacheValue {
		return cacheValue{ref: ref}
	})
}

func (c *credCache) evict(parts []string) { c.v().Delete(parts) }

// calmUntil returns until when the active cookie session s, as cached,
// needs nothing but serving: it stays active, no refresh or activity
// record falls due, and no callback about it fires (a token lapsing, an
// Error to report). Zero when something may be needed at once. Before it,
// a request that finds s in the cache reads none of its fields: the
// checks that would tell are the ones this sums up.
func (m *Manager) calmUntil(s *Session) time.Time {
	if s.Status != StatusActive || s.Source != SourceCookie || s.Error != "" {
		return time.Time{}
	}
	t := cacheUntil(s)
	earlier := func(u time.Time) {
		if !u.IsZero() && u.Before(t) {
			t = u
		}
	}
	if s.AccessToken != "" {
		earlier(s.AccessTokenExpiresAt) // OnAccessTokenExpired; markUnrefreshable
	}
	if s.IDToken != "" {
		earlier(s.IDTokenExpiresAt) // OnIdTokenExpired
	}
	if m.cfg.IdleTimeout > 0 {
		earlier(s.LastActiveAt.Add(m.stored.touchInterval())) // renew's activity record
	}
	if at, ok := m.refresher.dueAt(s); ok {
		earlier(at) // refresher.due
	}
	return t
}

// cacheUntil is when s stops being active on its own.
func cacheUntil(s *Session) time.Time {
	until := s.ExpireAt
	if !s.AbandonAt.IsZero() && (until.IsZero() || s.AbandonAt.Before(until)) {
		until = s.AbandonAt
	}
	return until
}
