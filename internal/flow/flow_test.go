package flow

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/seal"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const lifetime = 10 * time.Minute

func key() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func newCookies(t *testing.T, clk *testclock.Clock, keys ...[]byte) *Cookies {
	t.Helper()
	s, err := seal.New("sessionkit sign-in flow sessionkit", keys)
	if err != nil {
		t.Fatal(err)
	}
	return &Cookies{Sealer: s, Prefix: "__Host-sessionkit.oauth-state", Now: clk.Now}
}

func TestUsed(t *testing.T) {
	u := NewUsed(3)
	steps := []struct {
		state        string
		expires, now int64
		want         bool
	}{
		{"a", 100, 0, true},
		{"a", 100, 50, false}, // replay within the lifetime
		{"b", 110, 60, true},
		{"c", 120, 70, true},
		{"a", 100, 99, false}, // still held at capacity
		{"d", 130, 80, true},  // full: "a" is forgotten early
		{"a", 100, 81, true},  // the documented cost of the bound
		{"b", 110, 111, true}, // expired: forgotten
		{"e", 500, 400, true}, // every old entry expired
		{"e", 500, 499, false},
	}
	for i, s := range steps {
		if got := u.Consume(s.state, s.expires, s.now); got != s.want {
			t.Fatalf("step %d (%s at %d): got %v, want %v", i, s.state, s.now, got, s.want)
		}
		if n := len(u.queue) - u.head; n > 3 || len(u.seen) > 3 {
			t.Fatalf("step %d: %d queued, %d held; want at most 3", i, n, len(u.seen))
		}
	}
}

// A flow cookie opens only under the name of the state it holds, until
// its lifetime has passed, with the first key or an older one still
// listed.
func TestCookiesOpen(t *testing.T) {
	clk := testclock.New(t0)
	k1, k2 := key(), key()
	c := newCookies(t, clk, k1)
	state := rand.Text()
	name, _ := c.Name(state)
	other, _ := c.Name(rand.Text())
	v, err := c.Seal(name, &State{Provider: "oidc", State: state, Callback: "https://app.example/x",
		Redirect: "https://app.example/api/auth/callback/oidc", Expires: t0.Add(lifetime).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		c      *Cookies
		cookie string
		at     time.Duration // after the sign-in started
		want   bool
	}{
		{"its own name", c, name, 0, true},
		{"rotated keys", newCookies(t, clk, k2, k1), name, 0, true},
		{"removed key", newCookies(t, clk, k2), name, 0, false},
		{"another state's name", c, other, 0, false},
		{"the session cookie's name", c, "__Host-sessionkit", 0, false},
		{"just before the lifetime ends", c, name, lifetime - time.Second, true},
		{"when the lifetime ends", c, name, lifetime, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Set(t0.Add(tt.at))
			f, ok := tt.c.Open(tt.cookie, v)
			if ok != tt.want || (ok && f.State != state) {
				t.Fatalf("got %+v, %v; want opened %v", f, ok, tt.want)
			}
		})
	}
}

func TestCookiesName(t *testing.T) {
	c := &Cookies{Prefix: "p"}
	state := rand.Text()
	if name, ok := c.Name(state); !ok || name != "p."+state[:keyLen] {
		t.Fatalf("got %q, %v; want p.%s", name, ok, state[:keyLen])
	}
	for _, bad := range []string{"", state[1:], strings.ToLower(state), "0" + state[1:]} {
		if _, ok := c.Name(bad); ok {
			t.Errorf("Name(%q): got ok, want false", bad)
		}
	}
}

// A state too long for a browser's cookie is refused when sealed.
func TestSealTooLarge(t *testing.T) {
	c := newCookies(t, testclock.New(t0), key())
	state := rand.Text()
	name, _ := c.Name(state)
	_, err := c.Seal(name, &State{State: state, Callback: "https://app.example/" + strings.Repeat("a", 4096)})
	if err != ErrTooLarge {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

// Prune keeps MaxFlows: junk is expired, a same-site start past the bound
// ends the oldest, a cross-site one ends none and finds no room.
func TestPrune(t *testing.T) {
	clk := testclock.New(t0)
	c := newCookies(t, clk, key())
	var jar []*http.Cookie
	for i := range MaxFlows {
		state := rand.Text()
		name, _ := c.Name(state)
		v, err := c.Seal(name, &State{State: state, Expires: t0.Add(lifetime + time.Duration(i)*time.Second).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		jar = append(jar, &http.Cookie{Name: name, Value: v})
	}
	junk := &http.Cookie{Name: c.Prefix + ".AAAAAAAAAAAA", Value: "forged"}
	if expire, room := c.Prune([]*http.Cookie{junk, jar[0]}, true); !room || len(expire) != 1 || expire[0] != junk.Name {
		t.Fatalf("junk: got %v, %v; want the junk expired and room", expire, room)
	}
	if expire, room := c.Prune(jar, true); room || len(expire) != 0 {
		t.Fatalf("cross-site, full: got %v, %v; want nothing expired and no room", expire, room)
	}
	if expire, room := c.Prune(jar, false); !room || len(expire) != 1 || expire[0] != jar[0].Name {
		t.Fatalf("same-site, full: got %v, %v; want the oldest (%s) expired and room", expire, room, jar[0].Name)
	}
}

func TestFind(t *testing.T) {
	clk := testclock.New(t0)
	c := newCookies(t, clk, key())
	state := rand.Text()
	name, _ := c.Name(state)
	v, err := c.Seal(name, &State{Provider: "oidc", State: state, Callback: "/", Expires: t0.Add(lifetime).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	sameKey := state[:keyLen] + strings.Repeat("A", len(state)-keyLen)
	tests := []struct {
		name      string
		provider  string
		state     string
		cookie    bool
		wantName  string
		wantError error
	}{
		{"found", "oidc", state, true, name, nil},
		{"no cookie", "oidc", state, false, name, ErrNoFlow},
		{"state not ours", "oidc", "short", true, "", ErrNoFlow},
		{"other provider", "github", state, true, name, ErrProvider},
		{"same name, other state", "oidc", sameKey, true, name, ErrStateMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/callback", nil)
			if tt.cookie {
				r.AddCookie(&http.Cookie{Name: name, Value: v})
			}
			f, gotName, err := c.Find(r, tt.provider, tt.state)
			if err != tt.wantError || gotName != tt.wantName {
				t.Fatalf("got %q, %v; want %q, %v", gotName, err, tt.wantName, tt.wantError)
			}
			if err == nil && f.State != state {
				t.Fatalf("got state %q, want %q", f.State, state)
			}
		})
	}
}
