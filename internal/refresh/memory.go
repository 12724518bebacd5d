package refresh

import (
	"sync"
	"time"
)

const (
	// Grace is the least time an outcome is remembered: callers that
	// still present the refresh token it used take its result instead of
	// sending a rotated-out token again.
	Grace = 30 * time.Second
	// MaxMemory is the most time a success is remembered: as long as the
	// new access token lives, up to this.
	MaxMemory = 24 * time.Hour
	// BackoffMin is the pause after a first transient failure before the
	// same refresh token is tried again; it doubles with each failure in
	// a row.
	BackoffMin = 2 * time.Second
	// BackoffMax bounds that pause.
	BackoffMax = time.Minute
	// DefaultCapacity is the number of outcomes a Memory keeps by default.
	DefaultCapacity = 10000
	// maxHops bounds how far Latest follows successors, so that a token
	// whose successor is itself (a provider that does not rotate) ends.
	maxHops = 16
)

// Backoff is the pause after failures transient failures in a row (at
// least 1): BackoffMin, doubling, up to BackoffMax.
func Backoff(failures uint64) time.Duration {
	return min(BackoffMin<<min(failures-1, 10), BackoffMax)
}

// Outcome is what one exchange of a refresh token gave.
type Outcome[T any] struct {
	// Value is the exchange's result; the zero value after a failure.
	Value T
	// Err is the failure; nil after a success.
	Err error
}

// Memory remembers the outcomes of recent exchanges by the Key of the
// refresh token they used, and which refresh token a success returned, so
// that a caller holding an older token is led to the newest tokens. It is
// safe for concurrent use.
type Memory[T any] struct {
	capacity int

	mu      sync.Mutex
	entries map[Key]*entry[T]
}

// entry is the outcome of the last exchange of one refresh token.
type entry[T any] struct {
	Outcome[T]
	next     Key // the refresh token a success returned
	failures int // transient failures in a row
	// until ends the grace of a success or a permanent failure, and the
	// backoff of a transient one.
	until time.Time
}

func (e *entry[T]) ok() bool { return e.Err == nil }

// NewMemory returns a Memory that keeps at most capacity outcomes
// (DefaultCapacity when capacity is not positive).
func NewMemory[T any](capacity int) *Memory[T] {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Memory[T]{capacity: capacity, entries: map[Key]*entry[T]{}}
}

// Succeeded records that the refresh token of key was exchanged for value,
// which holds the refresh token of next (key itself when the provider does
// not rotate) and an access token that expires at expiry. It is remembered
// until expiry, at least Grace and at most MaxMemory from now.
func (m *Memory[T]) Succeeded(key Key, value T, next Key, expiry, now time.Time) {
	e := &entry[T]{Outcome: Outcome[T]{Value: value}, next: next, until: now.Add(Grace)}
	if expiry.After(e.until) {
		e.until = expiry
		if limit := now.Add(MaxMemory); limit.Before(expiry) {
			e.until = limit
		}
	}
	m.put(key, e, now)
}

// Failed records that exchanging the refresh token of key failed with err,
// which must not be nil. A permanent failure (the token was refused) is
// remembered for Grace; a transient one until its Backoff has passed,
// which grows with each transient failure of key in a row.
func (m *Memory[T]) Failed(key Key, err error, permanent bool, now time.Time) {
	e := &entry[T]{Outcome: Outcome[T]{Err: err}, until: now.Add(Grace)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !permanent {
		e.failures = 1
		if prev := m.entries[key]; prev != nil && !prev.ok() {
			e.failures = prev.failures + 1
		}
		e.until = now.Add(Backoff(uint64(e.failures)))
	}
	m.putLocked(key, e, now)
}

func (m *Memory[T]) put(key Key, e *entry[T], now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(key, e, now)
}

func (m *Memory[T]) putLocked(key Key, e *entry[T], now time.Time) {
	if len(m.entries) >= m.capacity {
		m.pruneLocked(now)
	}
	m.entries[key] = e
}

// Latest returns the outcome recorded for key that still applies at now.
// A success leads to the outcome of the refresh token it returned, and so
// on, so that an old token gets the newest tokens, never a rotated-out
// one; a failure of a successor is the successor's own business and stops
// the walk at the last success.
func (m *Memory[T]) Latest(key Key, now time.Time) (Outcome[T], bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.recentLocked(key, now)
	if e == nil {
		return Outcome[T]{}, false
	}
	for hops := 0; e.ok() && hops < maxHops; hops++ {
		next := m.recentLocked(e.next, now)
		if next == nil || !next.ok() {
			break
		}
		e = next
	}
	return e.Outcome, true
}

// recentLocked returns the entry of key that still applies at now. An
// entry that no longer applies is dropped, unless it counts transient
// failures in a row.
func (m *Memory[T]) recentLocked(key Key, now time.Time) *entry[T] {
	e := m.entries[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.until) {
		if e.ok() || e.failures == 0 {
			delete(m.entries, key)
		}
		return nil
	}
	return e
}

// Len returns the number of outcomes held.
func (m *Memory[T]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// pruneLocked makes room for one more entry: outcomes that no longer
// apply and failures first, then the successes closest to their end.
func (m *Memory[T]) pruneLocked(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.until) || !e.ok() {
			delete(m.entries, k)
		}
	}
	for len(m.entries) >= m.capacity {
		m.evictOneLocked()
	}
}

// evictOneLocked drops the entry closest to its end among a sample of 8
// (map order), as Redis evicts: cheap, and close enough to the oldest.
func (m *Memory[T]) evictOneLocked() {
	var oldest Key
	var until time.Time
	n := 0
	for k, e := range m.entries {
		if n == 0 || e.until.Before(until) {
			oldest, until = k, e.until
		}
		if n++; n == 8 {
			break
		}
	}
	delete(m.entries, oldest)
}
