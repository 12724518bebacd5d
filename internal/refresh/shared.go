package refresh

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

const (
	// LockSlack is how much longer than the exchange timeout a lock shared
	// by every instance lives: its holder saves after the token endpoint
	// answered.
	LockSlack = 10 * time.Second
	// poll is how often a caller that lost the shared lock looks for the
	// holder's result.
	poll = 20 * time.Millisecond
)

// ErrLockWait: the context ended while another instance held the shared
// lock.
var ErrLockWait = errors.New("the refresh did not finish within RefreshTimeout")

// ExchangeTimeout bounds one exchange with the token endpoint. It is
// longer than the callers' wait (at least twice wait, and at least fetch,
// the timeout of one request): once the provider has rotated the refresh
// token, a late answer must still be recorded, or the next caller would
// send the rotated-out token again.
func ExchangeTimeout(fetch, wait time.Duration) time.Duration {
	return max(fetch, 2*wait)
}

// Shared runs one refresh across every instance that shares a lock.
// locked tries to take the lock and, holding it, to refresh: done is false
// when another instance holds the lock. Then elsewhere reports whether the
// holder's result is there (done) and returns it; Shared calls the two in
// turn, pausing about 20 to 40 milliseconds between rounds, until one is
// done or fails, or ctx ends (ErrLockWait).
func Shared[T any](ctx context.Context, locked, elsewhere func() (v T, done bool, err error)) (T, error) {
	for {
		if v, done, err := locked(); done || err != nil {
			return v, err
		}
		if v, done, err := elsewhere(); done || err != nil {
			return v, err
		}
		t := time.NewTimer(poll + rand.N(poll))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			var zero T
			return zero, ErrLockWait
		}
	}
}
