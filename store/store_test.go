package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestStoreErrors(t *testing.T) {
	sentinels := []struct {
		name string
		err  error
	}{
		{"ErrNotFound", ErrNotFound},
		{"ErrConflict", ErrConflict},
		{"ErrLocked", ErrLocked},
	}
	for _, tt := range sentinels {
		t.Run(tt.name, func(t *testing.T) {
			if msg := tt.err.Error(); !strings.HasPrefix(msg, "sessionkit: ") {
				t.Errorf("got message %q, want the prefix %q", msg, "sessionkit: ")
			}
			wrapped := fmt.Errorf("redisstore: load: %w", tt.err)
			for _, other := range sentinels {
				if got, want := errors.Is(wrapped, other.err), other.name == tt.name; got != want {
					t.Errorf("errors.Is(wrapped %s, %s): got %v, want %v", tt.name, other.name, got, want)
				}
			}
		})
	}
}
