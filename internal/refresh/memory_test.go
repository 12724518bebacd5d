package refresh

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

var errRefused = errors.New("refused")

func TestMemorySuccessGrace(t *testing.T) {
	tests := []struct {
		name   string
		expiry time.Time // of the new access token
		at     time.Duration
		found  bool
	}{
		{"within grace, short-lived token", t0.Add(5 * time.Second), Grace - time.Second, true},
		{"after grace, short-lived token", t0.Add(5 * time.Second), Grace, false},
		{"no expiry: grace only", time.Time{}, Grace, false},
		{"while the new token lives", t0.Add(time.Hour), 59 * time.Minute, true},
		{"once the new token expired", t0.Add(time.Hour), time.Hour, false},
		{"capped at MaxMemory", t0.Add(48 * time.Hour), MaxMemory, false},
		{"just before MaxMemory", t0.Add(48 * time.Hour), MaxMemory - time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory[string](0)
			a, b := KeyOf("p", "rt-1"), KeyOf("p", "rt-2")
			m.Succeeded(a, "tokens-2", b, tt.expiry, t0)
			o, ok := m.Latest(a, t0.Add(tt.at))
			if ok != tt.found {
				t.Fatalf("found: got %v, want %v", ok, tt.found)
			}
			if ok && (o.Value != "tokens-2" || o.Err != nil) {
				t.Errorf("outcome: got %+v, want tokens-2", o)
			}
		})
	}
}

func TestMemoryFollowsSuccessors(t *testing.T) {
	k := func(i int) Key { return KeyOf("p", fmt.Sprintf("rt-%d", i)) }
	tests := []struct {
		name  string
		setup func(m *Memory[string])
		want  Outcome[string]
	}{
		{"one rotation", func(m *Memory[string]) {
			m.Succeeded(k(1), "v2", k(2), t0.Add(time.Hour), t0)
		}, Outcome[string]{Value: "v2"}},
		{"two rotations: the newest tokens", func(m *Memory[string]) {
			m.Succeeded(k(1), "v2", k(2), t0.Add(time.Hour), t0)
			m.Succeeded(k(2), "v3", k(3), t0.Add(time.Hour), t0)
		}, Outcome[string]{Value: "v3"}},
		{"a successor's failure is its own", func(m *Memory[string]) {
			m.Succeeded(k(1), "v2", k(2), t0.Add(time.Hour), t0)
			m.Failed(k(2), errRefused, true, t0)
		}, Outcome[string]{Value: "v2"}},
		{"no rotation: the token is its own successor", func(m *Memory[string]) {
			m.Succeeded(k(1), "v1", k(1), t0.Add(time.Hour), t0)
		}, Outcome[string]{Value: "v1"}},
		{"a failure", func(m *Memory[string]) {
			m.Failed(k(1), errRefused, true, t0)
		}, Outcome[string]{Err: errRefused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory[string](0)
			tt.setup(m)
			got, ok := m.Latest(k(1), t0.Add(time.Second))
			if !ok || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, true", got, ok, tt.want)
			}
		})
	}
}

func TestMemoryFailures(t *testing.T) {
	key := KeyOf("p", "rt")
	tests := []struct {
		name      string
		permanent []bool // the failures in a row
		at        time.Duration
		found     bool
	}{
		{"permanent: within grace", []bool{true}, Grace - time.Second, true},
		{"permanent: after grace", []bool{true}, Grace, false},
		{"transient: within the first backoff", []bool{false}, BackoffMin - time.Millisecond, true},
		{"transient: after the first backoff", []bool{false}, BackoffMin, false},
		{"third in a row: backoff doubled twice", []bool{false, false, false}, 4*BackoffMin - time.Millisecond, true},
		{"third in a row: after its backoff", []bool{false, false, false}, 4 * BackoffMin, false},
		{"a permanent failure restarts the count", []bool{false, false, true, false}, BackoffMin, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory[string](0)
			for _, p := range tt.permanent {
				m.Failed(key, errRefused, p, t0)
			}
			o, ok := m.Latest(key, t0.Add(tt.at))
			if ok != tt.found {
				t.Fatalf("found: got %v, want %v", ok, tt.found)
			}
			if ok && !errors.Is(o.Err, errRefused) {
				t.Errorf("err: got %v, want %v", o.Err, errRefused)
			}
		})
	}
}

func TestMemoryTransientCountSurvivesBackoff(t *testing.T) {
	m := NewMemory[string](0)
	key := KeyOf("p", "rt")
	m.Failed(key, errRefused, false, t0)
	now := t0.Add(BackoffMin) // the backoff has passed: tried again
	if _, ok := m.Latest(key, now); ok {
		t.Fatal("the backoff has passed: want no outcome")
	}
	m.Failed(key, errRefused, false, now)
	if _, ok := m.Latest(key, now.Add(2*BackoffMin-time.Millisecond)); !ok {
		t.Errorf("second failure in a row: want a backoff of %s", 2*BackoffMin)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures uint64
		want     time.Duration
	}{
		{1, BackoffMin},
		{2, 2 * BackoffMin},
		{3, 4 * BackoffMin},
		{5, 16 * BackoffMin},
		{6, BackoffMax},
		{1000, BackoffMax},
		{0, BackoffMax},
	}
	for _, tt := range tests {
		if got := Backoff(tt.failures); got != tt.want {
			t.Errorf("Backoff(%d): got %s, want %s", tt.failures, got, tt.want)
		}
	}
}

func TestMemoryCapacity(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		fill     func(m *Memory[int], i int)
		keepLast bool
	}{
		{"successes", 16, func(m *Memory[int], i int) {
			m.Succeeded(KeyOf("p", fmt.Sprint(i)), i, KeyOf("p", fmt.Sprint(i+1)), t0.Add(time.Duration(i+1)*time.Hour), t0)
		}, true},
		{"failures", 16, func(m *Memory[int], i int) {
			m.Failed(KeyOf("p", fmt.Sprint(i)), errRefused, i%2 == 0, t0)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory[int](tt.capacity)
			for i := range 10 * tt.capacity {
				tt.fill(m, i)
				if n := m.Len(); n > tt.capacity {
					t.Fatalf("after %d outcomes: holds %d, want at most %d", i+1, n, tt.capacity)
				}
			}
			last := 10*tt.capacity - 1
			if _, ok := m.Latest(KeyOf("p", fmt.Sprint(last)), t0); ok != tt.keepLast {
				t.Errorf("the newest outcome kept: got %v, want %v", ok, tt.keepLast)
			}
		})
	}
}

func TestMemoryPrunesExpiredFirst(t *testing.T) {
	m := NewMemory[int](4)
	long := KeyOf("p", "long")
	m.Succeeded(long, 1, long, t0.Add(time.Hour), t0)
	for i := range 3 {
		k := KeyOf("p", fmt.Sprint(i))
		m.Succeeded(k, i, k, time.Time{}, t0) // grace only
	}
	later := t0.Add(Grace) // the three short ones no longer apply
	k := KeyOf("p", "new")
	m.Succeeded(k, 9, k, t0.Add(time.Hour), later)
	if _, ok := m.Latest(long, later); !ok {
		t.Error("a live success was evicted while expired ones were held")
	}
	if n := m.Len(); n != 2 {
		t.Errorf("held: got %d, want 2 (the expired dropped)", n)
	}
}
