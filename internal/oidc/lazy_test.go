package oidc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLazySharesOneAttempt(t *testing.T) {
	var l Lazy[string]
	var calls atomic.Int32
	release := make(chan struct{})
	fetch := func() (*string, error) {
		calls.Add(1)
		<-release
		v := "ok"
		return &v, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := l.Get(context.Background(), time.Now, time.Minute, fetch); err != nil || *v != "ok" {
				t.Errorf("Get: got %v, %v; want ok", v, err)
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	close(release)
	wg.Wait()
	if _, err := l.Get(context.Background(), time.Now, time.Minute, fetch); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fetches: got %d, want 1", n)
	}
}

func TestLazyRemembersFailure(t *testing.T) {
	var l Lazy[string]
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	boom := errors.New("boom")
	calls := 0
	fetch := func() (*string, error) {
		calls++
		if calls == 1 {
			return nil, boom
		}
		v := "ok"
		return &v, nil
	}
	steps := []struct {
		name    string
		advance time.Duration
		wantErr error
		calls   int
	}{
		{"first attempt fails", 0, boom, 1},
		{"within retry: the same error, no attempt", 9 * time.Second, boom, 1},
		{"after retry: a new attempt", time.Second, nil, 2},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		_, err := l.Get(context.Background(), clock, 10*time.Second, fetch)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) || calls != st.calls {
			t.Errorf("%s: got %v after %d fetches, want %v after %d", st.name, err, calls, st.wantErr, st.calls)
		}
	}
}

func TestLazyHonoursContext(t *testing.T) {
	var l Lazy[string]
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Get(ctx, time.Now, time.Minute, func() (*string, error) { <-release; return nil, errors.New("late") })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
