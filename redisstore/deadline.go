package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is a context whose deadline timer starts only when
// something asks for Done or Err. A read that the client-side cache
// answers never does, so a cache hit costs no timer and no registration
// with the parent context.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time
	once     sync.Once
	started  atomic.Pointer[context.Context] // set by start, or by stop to parent
	cancel   context.CancelFunc
}

// newLazyDeadline returns a lazyDeadline ending at the earlier of parent's
// deadline and d.
func newLazyDeadline(parent context.Context, d time.Time) *lazyDeadline {
	if pd, ok := parent.Deadline(); ok && pd.Before(d) {
		d = pd
	}
	return &lazyDeadline{parent: parent, deadline: d}
}

func (c *lazyDeadline) start() context.Context {
	c.once.Do(func() {
		ctx, cancel := context.WithDeadline(c.parent, c.deadline)
		c.cancel = cancel
		c.started.Store(&ctx)
	})
	return *c.started.Load()
}

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *lazyDeadline) Done() <-chan struct{}       { return c.start().Done() }
func (c *lazyDeadline) Err() error                  { return c.start().Err() }

// Value asks the started context once there is one, so that a context
// derived from c finds its cancellation there instead of watching c from
// a goroutine.
func (c *lazyDeadline) Value(key any) any {
	if ctx := c.started.Load(); ctx != nil {
		return (*ctx).Value(key)
	}
	return c.parent.Value(key)
}

// stop releases the timer, if it was started. One stopped before it
// started follows its parent from then on: the call it bounded is over.
func (c *lazyDeadline) stop() {
	c.once.Do(func() { c.started.Store(&c.parent) })
	if c.cancel != nil {
		c.cancel()
	}
}
