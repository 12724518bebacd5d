// Package testclock is the adjustable clock the tests give to Config.Now
// and to stores: time moves only when a test says so, so expiry, refresh
// and idle timeouts can be reached without sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is a clock that tests move by hand. It is either fixed (New), or
// live (Live): real time plus an offset, for tests that share time with a
// real server, such as an OpenID provider, that they cannot move. A Clock
// is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	base   time.Time // the fixed time; zero for a live clock
	live   bool
	offset time.Duration
}

// New returns a fixed clock that reads t0 until it is advanced or set.
func New(t0 time.Time) *Clock { return &Clock{base: t0} }

// Live returns a clock that follows real time, shifted by what Advance and
// Set add.
func Live() *Clock { return &Clock{live: true} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.origin().Add(c.offset)
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Set moves the clock to t. A live clock then keeps running from t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.offset = t.Sub(c.origin())
	c.mu.Unlock()
}

// origin is the time the offset is added to; c.mu is held.
func (c *Clock) origin() time.Time {
	if c.live {
		return time.Now()
	}
	return c.base
}
