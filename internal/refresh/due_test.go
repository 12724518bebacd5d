package refresh

import (
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := t0.Add(time.Hour)
	tests := []struct {
		name   string
		issued time.Time
		leeway time.Duration
		now    time.Time
		want   bool
	}{
		{"before the leeway", time.Time{}, time.Minute, exp.Add(-2 * time.Minute), false},
		{"within the leeway", time.Time{}, time.Minute, exp.Add(-time.Minute), true},
		{"expired", time.Time{}, time.Minute, exp.Add(time.Second), true},
		{"negative leeway", time.Time{}, -1, exp.Add(time.Second), false},
		{"leeway capped at half the lifetime", exp.Add(-time.Minute), time.Hour, exp.Add(-time.Minute), false},
		{"half the lifetime", exp.Add(-time.Minute), time.Hour, exp.Add(-30 * time.Second), true},
		{"issued after expiry", exp.Add(time.Minute), time.Hour, exp.Add(-time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Due(exp, tt.issued, tt.leeway, tt.now); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			at, ok := DueAt(exp, tt.issued, tt.leeway)
			if ok != (tt.leeway >= 0) || ok && (Due(exp, tt.issued, tt.leeway, at.Add(-time.Nanosecond)) || !Due(exp, tt.issued, tt.leeway, at)) {
				t.Fatalf("DueAt: %v, %v; not where Due turns true", at, ok)
			}
		})
	}
	if Due(time.Time{}, time.Time{}, time.Minute, t0) {
		t.Fatal("a token without expiry is due")
	}
}
