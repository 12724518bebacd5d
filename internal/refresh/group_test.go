package refresh

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupSharesOneFlight(t *testing.T) {
	tests := []struct {
		name    string
		waiters int
	}{
		{"one caller", 1},
		{"eight callers", 8},
		{"sixty-four callers", 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGroup[string](time.Minute, nil)
			defer g.Close()
			var calls atomic.Int32
			release := make(chan struct{})
			fn := func() (string, error) {
				calls.Add(1)
				<-release
				return "new", nil
			}
			var wg sync.WaitGroup
			results := make(chan string, tt.waiters)
			started := make(chan struct{}, tt.waiters)
			for range tt.waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					started <- struct{}{}
					v, err := g.Do(context.Background(), "rt", fn)
					if err != nil {
						v = err.Error()
					}
					results <- v
				}()
			}
			for range tt.waiters {
				<-started
			}
			waitFor(t, func() bool { return calls.Load() == 1 })
			time.Sleep(10 * time.Millisecond) // let the others join the flight
			close(release)
			wg.Wait()
			close(results)
			for v := range results {
				if v != "new" {
					t.Errorf("a waiter got %q, want %q", v, "new")
				}
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("exchanges: got %d, want 1", got)
			}
		})
	}
}

func TestGroupKeysRunApart(t *testing.T) {
	g := NewGroup[int](time.Minute, nil)
	defer g.Close()
	var calls atomic.Int32
	for i, key := range []string{"a", "b", "c"} {
		v, err := g.Do(context.Background(), key, func() (int, error) { calls.Add(1); return i, nil })
		if err != nil || v != i {
			t.Fatalf("Do(%q): got %d, %v; want %d, nil", key, v, err, i)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("flights: got %d, want 3 (one per key)", got)
	}
}

func TestGroupWaitEnds(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		wait    time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		block   bool // the flight never ends while the caller waits
		want    error
		wantCtx error
	}{
		{name: "result", wait: time.Minute, ctx: background, want: nil},
		{name: "the flight's error as it is", wait: time.Minute, ctx: background, want: errBoom},
		{name: "wait limit", wait: 20 * time.Millisecond, ctx: background, block: true, want: ErrWaitTimeout},
		{name: "context cancelled", wait: time.Minute, ctx: cancelled, block: true, want: ErrAbandoned, wantCtx: context.Canceled},
		{name: "context deadline", wait: time.Minute, ctx: deadline, block: true, want: ErrAbandoned, wantCtx: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGroup[*int](tt.wait, nil)
			release := make(chan struct{})
			ctx, cancel := tt.ctx()
			defer cancel()
			v, err := g.Do(ctx, "rt", func() (*int, error) {
				if tt.block {
					<-release
				}
				if tt.want != nil {
					return nil, tt.want
				}
				n := 7
				return &n, nil
			})
			close(release)
			g.Close() // the flight ends once released: no goroutine is left
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err: got %v, want %v", err, tt.want)
			}
			if tt.wantCtx != nil && !errors.Is(err, tt.wantCtx) {
				t.Errorf("err: got %v, want it to wrap %v", err, tt.wantCtx)
			}
			if tt.want == nil && (v == nil || *v != 7) {
				t.Errorf("value: got %v, want 7", v)
			}
			if tt.want != nil && v != nil {
				t.Errorf("value: got %v, want nil with an error", *v)
			}
		})
	}
}

func TestGroupFlightOutlivesItsCaller(t *testing.T) {
	g := NewGroup[string](time.Minute, nil)
	defer g.Close()
	release := make(chan struct{})
	var calls atomic.Int32
	fn := func() (string, error) { calls.Add(1); <-release; return "done", nil }
	ctx, cancel := context.WithCancel(context.Background())
	go func() { waitFor(t, func() bool { return calls.Load() == 1 }); cancel() }()
	if _, err := g.Do(ctx, "rt", fn); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("the first caller: got %v, want ErrAbandoned", err)
	}
	// A second caller joins the flight the first one left.
	done := make(chan string)
	go func() { v, _ := g.Do(context.Background(), "rt", fn); done <- v }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if v := <-done; v != "done" {
		t.Errorf("the second caller: got %q, want %q", v, "done")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
}

func TestGroupPanicAndClose(t *testing.T) {
	var told atomic.Value
	g := NewGroup[string](time.Minute, func(v any) { told.Store(v) })
	if _, err := g.Do(context.Background(), "rt", func() (string, error) { panic("hook bug") }); !errors.Is(err, ErrPanicked) {
		t.Fatalf("a panicking flight: got %v, want ErrPanicked", err)
	}
	if got := told.Load(); got != "hook bug" {
		t.Errorf("onPanic: got %v, want the panic value", got)
	}
	g.Close()
	ran := false
	if _, err := g.Do(context.Background(), "rt", func() (string, error) { ran = true; return "", nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: got %v, want ErrClosed", err)
	}
	if ran {
		t.Error("a flight ran after Close")
	}
}

func TestGroupCloseWaitsForFlights(t *testing.T) {
	g := NewGroup[string](10*time.Millisecond, nil)
	release := make(chan struct{})
	var ended atomic.Bool
	if _, err := g.Do(context.Background(), "rt", func() (string, error) {
		<-release
		ended.Store(true)
		return "", nil
	}); !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("got %v, want ErrWaitTimeout", err)
	}
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	g.Close()
	if !ended.Load() {
		t.Error("Close returned while a flight was running")
	}
}

func background() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func cancelled() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	return ctx, cancel
}

func deadline() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Millisecond)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Error("timed out waiting for a condition")
}
