package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type ctxKey struct{}

func TestLazyDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")

	t.Run("times out once waited on", func(t *testing.T) {
		c := newLazyDeadline(parent, time.Now().Add(20*time.Millisecond))
		defer c.stop()
		if d, ok := c.Deadline(); !ok || !d.Equal(c.deadline) {
			t.Fatalf("Deadline: got %v, %v", d, ok)
		}
		if c.Value(ctxKey{}) != "v" {
			t.Fatal("Value: the parent's value is lost")
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("not done after its deadline")
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err: got %v, want DeadlineExceeded", c.Err())
		}
	})
	t.Run("follows its parent", func(t *testing.T) {
		p, cancel := context.WithCancel(parent)
		c := newLazyDeadline(p, time.Now().Add(time.Hour))
		defer c.stop()
		if c.Err() != nil {
			t.Fatalf("Err before the parent ends: got %v", c.Err())
		}
		cancel()
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err: got %v, want Canceled", c.Err())
		}
	})
	t.Run("stopped before it started", func(t *testing.T) {
		c := newLazyDeadline(parent, time.Now().Add(time.Hour))
		c.stop()
		if c.cancel != nil {
			t.Fatal("stop started a timer")
		}
		if c.Err() != nil || c.Done() != nil {
			t.Fatal("a stopped context of a parent that never ends reports an end")
		}
	})
	t.Run("the parent's earlier deadline", func(t *testing.T) {
		p, cancel := context.WithTimeout(parent, time.Minute)
		defer cancel()
		c := newLazyDeadline(p, time.Now().Add(time.Hour))
		defer c.stop()
		if d, ok := c.Deadline(); !ok || d.After(time.Now().Add(time.Minute)) {
			t.Fatalf("Deadline: got %v, %v, want the parent's", d, ok)
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		for range 50 {
			c := newLazyDeadline(parent, time.Now().Add(time.Hour))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { _ = c.Done(); _ = c.Err(); _ = c.Value(ctxKey{}) })
			}
			wg.Go(c.stop)
			wg.Wait()
			c.stop()
			if c.Value(ctxKey{}) != "v" {
				t.Fatal("Value: the parent's value is lost")
			}
		}
	})
}
