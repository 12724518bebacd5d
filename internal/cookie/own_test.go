package cookie

import (
	"net/http"
	"testing"
	"time"
)

func TestOwn(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name        string
		maxAge      int
		secure      bool
		wantExpires time.Time
	}{
		{"lasting", 600, true, now.Add(10 * time.Minute)},
		{"browser session", 0, false, time.Time{}},
		{"expired", -1, true, time.Unix(1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Own("n", "v", tt.maxAge, tt.secure, now)
			if c.Name != "n" || c.Value != "v" || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Fatalf("got %+v, want a host-only HttpOnly Lax cookie n=v at /", c)
			}
			if c.Secure != tt.secure || c.MaxAge != tt.maxAge {
				t.Errorf("got Secure %v MaxAge %d, want %v %d", c.Secure, c.MaxAge, tt.secure, tt.maxAge)
			}
			if !c.Expires.Equal(tt.wantExpires) {
				t.Errorf("Expires: got %v, want %v", c.Expires, tt.wantExpires)
			}
		})
	}
}
