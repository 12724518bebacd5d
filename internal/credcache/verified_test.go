package credcache

import (
	"testing"
	"time"
)

func TestVerified(t *testing.T) {
	c := NewVerified[string](64 << 10)
	k := c.Key([]string{"short-lived"})
	if k.Len != len("short-lived") {
		t.Fatalf("got length %d, want %d", k.Len, len("short-lived"))
	}
	made := 0
	c.Put("bearer", 3, k, 100, t0.Add(time.Second), t0, func() string { made++; return "v" })
	get := func(tag string, gen uint64, parts []string, now time.Time) bool {
		v, ok := c.Get(tag, gen, c.Key(parts), now)
		return ok && v == "v"
	}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"same credential", get("bearer", 3, []string{"short-lived"}, t0), true},
		{"at its expiry", get("bearer", 3, []string{"short-lived"}, t0.Add(time.Second)), false},
		{"another tag", get("cookie", 3, []string{"short-lived"}, t0), false},
		{"another generation", get("bearer", 4, []string{"short-lived"}, t0), false},
		{"another credential", get("bearer", 3, []string{"short-livee"}, t0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if made != 1 {
		t.Fatalf("got %d values made, want 1", made)
	}
	if st := c.Stats(); st.Entries != 1 || st.Bytes != 100 {
		t.Fatalf("got %+v, want 1 entry of 100 bytes", st)
	}
	c.Delete([]string{"short-lived"})
	if get("bearer", 3, []string{"short-lived"}, t0) {
		t.Fatal("an evicted credential is still served")
	}
}

func TestVerifiedDisabled(t *testing.T) {
	c := NewVerified[string](0)
	if c != nil {
		t.Fatal("got a cache for a budget of 0, want nil")
	}
	k := c.Key([]string{"x"})
	c.Put("t", 0, k, 1, t0.Add(time.Hour), t0, func() string { t.Fatal("value made for a disabled cache"); return "" })
	if _, ok := c.Get("t", 0, k, t0); ok {
		t.Fatal("a disabled cache served an entry")
	}
	c.Delete([]string{"x"})
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("got %+v, want zero stats", st)
	}
}
