package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

func TestLazyDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")

	t.Run("times out once waited on", func(t *testing.T) {
		c := &lazyDeadline{parent: parent, deadline: time.Now().Add(20 * time.Millisecond)}
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
		c := &lazyDeadline{parent: p, deadline: time.Now().Add(time.Hour)}
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
		c := &lazyDeadline{parent: parent, deadline: time.Now().Add(time.Hour)}
		c.stop()
		if c.cancel != nil {
			t.Fatal("stop started a timer")
		}
		if c.Err() != nil || c.Done() != nil {
			t.Fatal("a stopped context of a parent that never ends reports an end")
		}
	})
}
