package refresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Errors of Group.Do. Their messages are meant to be wrapped by the caller's
// own error, which names the library.
var (
	// ErrWaitTimeout: the caller stopped waiting after the Group's wait
	// limit. The flight goes on for the others.
	ErrWaitTimeout = errors.New("the refresh did not finish within the wait limit")
	// ErrAbandoned: the caller's context ended before the flight did. The
	// flight goes on for the others. It is returned wrapped with the
	// context's error.
	ErrAbandoned = errors.New("stopped waiting for the refresh")
	// ErrClosed: the Group was closed before the flight started.
	ErrClosed = errors.New("refreshes have stopped")
	// ErrPanicked: the flight's function panicked.
	ErrPanicked = errors.New("the refresh panicked")
)

// Group runs flights: at most one call of a function per key at a time,
// whose result every caller that asked for that key while it ran shares. A
// flight runs detached from its callers' contexts; Close waits for the
// running ones. A Group is safe for concurrent use.
type Group[T any] struct {
	wait    time.Duration
	onPanic func(v any)
	flight  singleflight.Group

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// NewGroup returns a Group whose callers wait at most wait for a flight.
// onPanic, when not nil, is told of a flight whose function panicked (the
// panic itself becomes ErrPanicked); it must not panic.
func NewGroup[T any](wait time.Duration, onPanic func(v any)) *Group[T] {
	return &Group[T]{wait: wait, onPanic: onPanic}
}

// Do returns the result of the flight of key, starting one that calls fn
// when none runs. It returns fn's value and error as they are, or, when the
// caller stopped waiting first, an error wrapping ErrWaitTimeout or
// ErrAbandoned; ErrClosed once the Group is closed and ErrPanicked when fn
// panicked are the flight's own results. fn must not return ErrWaitTimeout
// or ErrAbandoned.
func (g *Group[T]) Do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	ch := g.flight.DoChan(key, func() (any, error) { return g.run(fn) })
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	var zero T
	select {
	case r := <-ch:
		v, _ := r.Val.(T)
		return v, r.Err
	case <-timer.C:
		return zero, ErrWaitTimeout
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", ErrAbandoned, ctx.Err())
	}
}

// run calls fn as a flight that Close waits for, turning a panic into
// ErrPanicked.
func (g *Group[T]) run(fn func() (T, error)) (v any, err error) {
	if !g.begin() {
		return nil, ErrClosed
	}
	defer g.running.Done()
	defer func() {
		if p := recover(); p != nil {
			if g.onPanic != nil {
				g.onPanic(p)
			}
			v, err = nil, ErrPanicked
		}
	}()
	val, err := fn()
	return val, err
}

// begin registers a flight for Close to wait for; it reports false once
// the Group is closed.
func (g *Group[T]) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.running.Add(1)
	return true
}

// Wait blocks until the flights running now have ended.
func (g *Group[T]) Wait() { g.running.Wait() }

// Close stops new flights from starting and waits for the running ones;
// their functions must end by themselves (cancel what they wait on first).
func (g *Group[T]) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.running.Wait()
}
