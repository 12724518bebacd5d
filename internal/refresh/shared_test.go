package refresh

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestShared(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name               string
		lockedAt, doneAt   int // the round locked or elsewhere is done in; 0 never
		lockErr            error
		wantV              int
		wantErr            error
		wantLockedCalls    int
		wantElsewhereCalls int
	}{
		{name: "lock taken at once", lockedAt: 1, wantV: 1, wantLockedCalls: 1},
		{name: "lock taken on the third round", lockedAt: 3, wantV: 1, wantLockedCalls: 3, wantElsewhereCalls: 2},
		{name: "result found elsewhere", doneAt: 2, wantV: 2, wantLockedCalls: 2, wantElsewhereCalls: 2},
		{name: "lock error", lockErr: boom, wantErr: boom, wantLockedCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nl, ne int
			v, err := Shared(context.Background(), func() (int, bool, error) {
				nl++
				if tt.lockErr != nil {
					return 0, false, tt.lockErr
				}
				return 1, nl == tt.lockedAt, nil
			}, func() (int, bool, error) {
				ne++
				return 2, ne == tt.doneAt, nil
			})
			if v != tt.wantV || !errors.Is(err, tt.wantErr) || nl != tt.wantLockedCalls || ne != tt.wantElsewhereCalls {
				t.Fatalf("got %d, %v after %d/%d calls, want %d, %v after %d/%d",
					v, err, nl, ne, tt.wantV, tt.wantErr, tt.wantLockedCalls, tt.wantElsewhereCalls)
			}
		})
	}
}

func TestSharedHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	never := func() (int, bool, error) { return 0, false, nil }
	start := time.Now()
	if _, err := Shared(ctx, never, never); !errors.Is(err, ErrLockWait) {
		t.Fatalf("got %v, want ErrLockWait", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v, want about 50ms", d)
	}
}

func TestExchangeTimeout(t *testing.T) {
	if got := ExchangeTimeout(10*time.Second, 2*time.Second); got != 10*time.Second {
		t.Fatalf("got %v, want the fetch timeout", got)
	}
	if got := ExchangeTimeout(time.Second, 2*time.Second); got != 4*time.Second {
		t.Fatalf("got %v, want twice the wait", got)
	}
}
