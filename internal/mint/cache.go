package mint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Cache keeps signed tokens by session and template, each until a time
// shortly before it expires. The tokens of a session belong to one state
// of it, named by a fingerprint: a token cached for another state is never
// returned, and caching for a new state drops the old state's tokens. It
// holds at most a bounded number of sessions and is safe for concurrent
// use.
type Cache struct {
	max int

	mu       sync.Mutex
	sessions map[string]*sessionTokens // by session ID
}

// sessionTokens are the cached tokens of one session in one state.
type sessionTokens struct {
	fp     string
	tokens map[string]cachedToken // by template
}

type cachedToken struct {
	raw   string
	until time.Time // served until then
}

// NewCache returns a Cache of at most maxSessions sessions (at least 1).
func NewCache(maxSessions int) *Cache {
	return &Cache{max: max(maxSessions, 1), sessions: map[string]*sessionTokens{}}
}

// Get returns the token cached for session in state fp from template, if
// it is still served at now.
func (c *Cache) Get(session, fp, template string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.sessions[session]
	if e == nil || e.fp != fp {
		return "", false
	}
	t, ok := e.tokens[template]
	if !ok || !now.Before(t.until) {
		return "", false
	}
	return t.raw, true
}

// Put caches raw, minted for session in state fp from template, to be
// served until until. When the Cache is full it first drops the sessions
// whose tokens are all past serving at now, then arbitrary sessions.
func (c *Cache) Put(session, fp, template, raw string, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.sessions[session]
	if e == nil || e.fp != fp {
		if e == nil && len(c.sessions) >= c.max {
			c.evictLocked(now)
		}
		e = &sessionTokens{fp: fp, tokens: map[string]cachedToken{}}
		// A copy: the caller's ID may share memory with a larger value
		// (a decoded cookie) that the cache must not keep alive.
		c.sessions[strings.Clone(session)] = e
	}
	e.tokens[template] = cachedToken{raw: raw, until: until}
}

// evictLocked drops the sessions with no token left to serve at now and,
// if the Cache is still full, a tenth of it (arbitrary sessions, in map
// order), so that the sweep is not paid on every Put. A dropped token is
// minted again when asked for.
func (c *Cache) evictLocked(now time.Time) {
	for k, v := range c.sessions {
		if !v.live(now) {
			delete(c.sessions, k)
		}
	}
	for k := range c.sessions {
		if len(c.sessions) < c.max-c.max/10 {
			break
		}
		delete(c.sessions, k)
	}
}

// live reports whether any token of e is still served at now.
func (e *sessionTokens) live(now time.Time) bool {
	for _, t := range e.tokens {
		if now.Before(t.until) {
			return true
		}
	}
	return false
}

// Forget drops the cached tokens of session.
func (c *Cache) Forget(session string) {
	c.mu.Lock()
	delete(c.sessions, session)
	c.mu.Unlock()
}

// Len returns the number of sessions with cached tokens.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// Fingerprint names a state by the values that define it: two lists of
// values have the same fingerprint only if they are equal (each value is
// length-prefixed before hashing, so no two lists collide by
// concatenation).
func Fingerprint(values ...string) string {
	var b []byte
	for _, v := range values {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
