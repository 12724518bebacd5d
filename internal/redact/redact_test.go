package redact

import (
	"testing"
	"time"
)

func TestSecret(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"none", "", ""},
		{"a token", "AT-SECRET", "[redacted]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Secret(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTime(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	for _, tt := range []struct {
		name string
		in   time.Time
		want string
	}{
		{"zero", time.Time{}, ""},
		{"in UTC", at, "2030-01-02T02:04:05Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Time(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
