package oidc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Lazy holds a value that is obtained on first use and may fail to be,
// such as a provider's discovered endpoints: concurrent callers share one
// attempt, a success is kept for good, and after a failure callers get
// the same error without a new attempt for a while. The zero value is
// ready to use; a Lazy must not be copied after first use.
type Lazy[T any] struct {
	ready  atomic.Pointer[T]
	flight singleflight.Group

	mu       sync.Mutex
	failedAt time.Time
	failErr  error
}

// Get returns the value, running fetch when there is none and the last
// failure is at least retry old by now. fetch runs apart from the
// caller, for every waiter and later caller: it must bound itself. Each
// caller waits at most until its ctx is done, and then gets ctx.Err().
func (l *Lazy[T]) Get(ctx context.Context, now func() time.Time, retry time.Duration, fetch func() (*T, error)) (*T, error) {
	if v := l.ready.Load(); v != nil {
		return v, nil
	}
	l.mu.Lock()
	if !l.failedAt.IsZero() && now().Sub(l.failedAt) < retry {
		err := l.failErr
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	ch := l.flight.DoChan("", func() (any, error) {
		if v := l.ready.Load(); v != nil {
			return v, nil
		}
		v, err := fetch()
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil {
			l.failedAt, l.failErr = now(), err
			return nil, err
		}
		l.failedAt, l.failErr = time.Time{}, nil
		l.ready.Store(v)
		return v, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*T), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
