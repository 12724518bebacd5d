package mint

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCacheGet(t *testing.T) {
	until := t0.Add(time.Minute)
	tests := []struct {
		name     string
		session  string
		fp       string
		template string
		at       time.Time
		want     string
	}{
		{"same state, in time", "s1", "fp1", "api", t0, "tok"},
		{"just before until", "s1", "fp1", "api", until.Add(-time.Nanosecond), "tok"},
		{"at until", "s1", "fp1", "api", until, ""},
		{"another state", "s1", "fp2", "api", t0, ""},
		{"another template", "s1", "fp1", "other", t0, ""},
		{"another session", "s2", "fp1", "api", t0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(10)
			c.Put("s1", "fp1", "api", "tok", until, t0)
			got, ok := c.Get(tt.session, tt.fp, tt.template, tt.at)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestCacheNewStateDropsOldTokens(t *testing.T) {
	c := NewCache(10)
	until := t0.Add(time.Minute)
	c.Put("s1", "fp1", "api", "a", until, t0)
	c.Put("s1", "fp1", "web", "w", until, t0)
	c.Put("s1", "fp2", "api", "b", until, t0)
	if _, ok := c.Get("s1", "fp2", "web", t0); ok {
		t.Error("a token of the old state is served for the new state")
	}
	if got, _ := c.Get("s1", "fp2", "api", t0); got != "b" {
		t.Errorf("got %q, want b", got)
	}
	c.Forget("s1")
	if _, ok := c.Get("s1", "fp2", "api", t0); ok || c.Len() != 0 {
		t.Errorf("after Forget: got a token or %d sessions, want none", c.Len())
	}
}

func TestCacheBound(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		expired bool // the cached tokens are past serving when the next come
	}{
		{"live tokens", 20, false},
		{"expired tokens", 20, true},
		{"one session", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(tt.max)
			for i := range 5 * tt.max {
				now := t0
				if tt.expired {
					now = t0.Add(time.Duration(i) * time.Hour)
				}
				c.Put(fmt.Sprint("s", i), "fp", "api", "tok", now.Add(time.Minute), now)
				if n := c.Len(); n > tt.max {
					t.Fatalf("after %d sessions: holds %d, want at most %d", i+1, n, tt.max)
				}
			}
			last := fmt.Sprint("s", 5*tt.max-1)
			if _, ok := c.Get(last, "fp", "api", t0); !ok && !tt.expired {
				t.Error("the newest session's token was dropped")
			}
		})
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(8)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("s", i%16)
			c.Put(id, "fp", "api", "tok", t0.Add(time.Minute), t0)
			c.Get(id, "fp", "api", t0)
			if i%5 == 0 {
				c.Forget(id)
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 8 {
		t.Errorf("holds %d sessions, want at most 8", n)
	}
}

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		same bool
	}{
		{"equal lists", []string{"a", "b"}, []string{"a", "b"}, true},
		{"a value moved across the boundary", []string{"ab", "c"}, []string{"a", "bc"}, false},
		{"an empty value added", []string{"a"}, []string{"a", ""}, false},
		{"order", []string{"a", "b"}, []string{"b", "a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fingerprint(tt.a...) == Fingerprint(tt.b...); got != tt.same {
				t.Errorf("same fingerprint: got %v, want %v", got, tt.same)
			}
		})
	}
}
