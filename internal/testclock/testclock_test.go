package testclock

import (
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestFixedClock(t *testing.T) {
	tests := []struct {
		name string
		move func(*Clock)
		want time.Time
	}{
		{"unmoved", func(*Clock) {}, t0},
		{"advanced", func(c *Clock) { c.Advance(90 * time.Second) }, t0.Add(90 * time.Second)},
		{"advanced twice", func(c *Clock) { c.Advance(time.Hour); c.Advance(-time.Minute) }, t0.Add(59 * time.Minute)},
		{"set", func(c *Clock) { c.Set(t0.Add(-time.Hour)) }, t0.Add(-time.Hour)},
		{"set then advanced", func(c *Clock) { c.Set(t0.AddDate(1, 0, 0)); c.Advance(time.Second) }, t0.AddDate(1, 0, 0).Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(t0)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v, want %v", got, tt.want)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() moved by itself: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLiveClock(t *testing.T) {
	tests := []struct {
		name string
		move func(*Clock)
		want time.Duration // expected Now() - time.Now()
	}{
		{"unmoved", func(*Clock) {}, 0},
		{"advanced", func(c *Clock) { c.Advance(time.Hour) }, time.Hour},
		{"set", func(c *Clock) { c.Set(time.Now().Add(-time.Hour)) }, -time.Hour},
	}
	const slack = time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Live()
			tt.move(c)
			got := c.Now().Sub(time.Now())
			if got < tt.want-slack || got > tt.want+slack {
				t.Errorf("Now() - time.Now() = %v, want %v within %v", got, tt.want, slack)
			}
		})
	}
}

// TestConcurrentUse lets the race detector check that Now, Advance and Set
// may be called from several goroutines.
func TestConcurrentUse(t *testing.T) {
	c := New(t0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Advance(time.Second)
			_ = c.Now()
			if i == 0 {
				c.Set(t0)
			}
		}()
	}
	wg.Wait()
	if got := c.Now(); got.Before(t0) || got.After(t0.Add(8*time.Second)) {
		t.Errorf("Now() = %v, want within [t0, t0+8s]", got)
	}
}
