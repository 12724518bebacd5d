package refresh

import (
	"context"
	"time"
)

// Flights shares each refresh token's exchange among the callers that need
// it at once (a Group) and remembers its outcome (a Memory), so that a
// caller presenting a token refreshed or refused a moment ago, or rotated
// out since, gets that outcome without a new exchange. It is safe for
// concurrent use.
type Flights[T any] struct {
	group     *Group[T]
	memory    *Memory[T]
	now       func() time.Time
	permanent func(error) bool
}

// Exchange is one exchange of a refresh token: its result, the Key of the
// refresh token it returned and the expiry of the new access token (see
// Memory.Succeeded).
type Exchange[T any] func() (v T, next Key, expiry time.Time, err error)

// NewFlights returns Flights whose callers wait at most wait for an
// exchange (see NewGroup for onPanic), that remember DefaultCapacity
// outcomes at the clock now. permanent tells a failure after which the
// refresh token must never be tried again from one worth a retry after
// the Backoff.
func NewFlights[T any](wait time.Duration, onPanic func(any), now func() time.Time, permanent func(error) bool) *Flights[T] {
	return &Flights[T]{group: NewGroup[T](wait, onPanic), memory: NewMemory[T](DefaultCapacity), now: now, permanent: permanent}
}

// Do returns the newest outcome of the refresh token keyed key: the one
// remembered (fresh is false), or that of the exchange it joins or starts
// (fresh is true), which runs detached from ctx and whose outcome is
// remembered. A fresh error may also be one of Group.Do's.
func (f *Flights[T]) Do(ctx context.Context, key Key, exchange Exchange[T]) (v T, fresh bool, err error) {
	if o, ok := f.memory.Latest(key, f.now()); ok {
		return o.Value, false, o.Err
	}
	v, err = f.group.Do(ctx, string(key[:]), func() (T, error) {
		// An exchange that ended since Latest has recorded its outcome.
		if o, ok := f.memory.Latest(key, f.now()); ok {
			return o.Value, o.Err
		}
		v, next, expiry, err := exchange()
		if err != nil {
			f.memory.Failed(key, err, f.permanent(err), f.now())
		} else {
			f.memory.Succeeded(key, v, next, expiry, f.now())
		}
		return v, err
	})
	return v, true, err
}

// Close stops new exchanges and waits for the running ones.
func (f *Flights[T]) Close() { f.group.Close() }

// Wait blocks until the exchanges running now have ended.
func (f *Flights[T]) Wait() { f.group.Wait() }
