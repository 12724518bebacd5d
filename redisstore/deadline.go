package redisstore

import (
	"context"
	"sync"
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
	ctx      context.Context
	cancel   context.CancelFunc
}

func (c *lazyDeadline) start() context.Context {
	c.once.Do(func() { c.ctx, c.cancel = context.WithDeadline(c.parent, c.deadline) })
	return c.ctx
}

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *lazyDeadline) Done() <-chan struct{}       { return c.start().Done() }
func (c *lazyDeadline) Err() error                  { return c.start().Err() }
func (c *lazyDeadline) Value(key any) any           { return c.parent.Value(key) }

// stop releases the timer, if it was started. One stopped before it
// started follows its parent from then on: the call it bounded is over.
func (c *lazyDeadline) stop() {
	c.once.Do(func() { c.ctx = c.parent })
	if c.cancel != nil {
		c.cancel()
	}
}
