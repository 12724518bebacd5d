package credcache

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestVerified(t *testing.T) {
	c := NewVerified[string](64<<10, Tag{Name: "bearer"}, Tag{Name: "cookie"})
	k := c.Key("bearer", []string{"short-lived"})
	if k.Len != len("short-lived") {
		t.Fatalf("got length %d, want %d", k.Len, len("short-lived"))
	}
	made := 0
	c.Put(3, k, 100, t0.Add(time.Second), t0, func() string { made++; return "v" })
	get := func(tag string, gen uint64, parts []string, now time.Time) bool {
		v, ok := c.Get(gen, c.Key(tag, parts), now)
		if !ok && v != "" { // callers may read the value without ok
			t.Fatalf("a miss returned %q", v)
		}
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
		{"an undeclared tag", get("jwt", 3, []string{"short-lived"}, t0), false},
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
	k := c.Key("t", []string{"x"})
	c.Put(0, k, 1, t0.Add(time.Hour), t0, func() string { t.Fatal("value made for a disabled cache"); return "" })
	if _, ok := c.Get(0, k, t0); ok {
		t.Fatal("a disabled cache served an entry")
	}
	c.Delete([]string{"x"})
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("got %+v, want zero stats", st)
	}
}

// serve runs the reader's use of a Verified for the credential cred: a
// lookup, and on a miss a Put. It reports whether the request hit and
// whether it skipped the cache.
func serve(c *Verified[string], cred string) (hit, skipped bool) {
	k := c.Key("cookie", []string{cred})
	if _, ok := c.Get(0, k, t0); ok {
		return true, false
	}
	c.Put(0, k, 100, t0.Add(time.Hour), t0, val("v"))
	return false, k.skip
}

// A full cache that requests spread over far more credentials than it
// holds steps aside, so that most requests compute no key and pay no
// lookup; once requests come back to credentials it can hold, it returns.
func TestVerifiedStepsAsideWhileItCannotPay(t *testing.T) {
	c := NewVerified[string](16<<10, Tag{"cookie", 1.0 / 32}) // about 160 entries of 100 bytes
	for i := range 200_000 {
		serve(c, fmt.Sprintf("user-%06d", i%50_000))
	}
	if !c.Aside("cookie") {
		t.Fatalf("still in the way after 200,000 requests over 50,000 credentials (%+v)", c.Stats())
	}
	skipped := 0
	for i := range 16_000 {
		if _, s := serve(c, fmt.Sprintf("user-%06d", i)); s {
			skipped++
		}
	}
	if skipped < 15_500 || skipped == 16_000 {
		t.Fatalf("%d of 16,000 requests skipped the cache while aside, want about 63 in 64", skipped)
	}

	// Traffic turns to 20 credentials: the samples see each of them again
	// within a few dozen requests, so they are admitted, and the next
	// reviews find them hit.
	back, hits := -1, 0
	for i := range 100_000 {
		h, _ := serve(c, fmt.Sprintf("hot-%d", i%20))
		if back < 0 && !c.Aside("cookie") {
			back = i
		}
		if h && i >= 60_000 {
			hits++
		}
	}
	if back < 0 || back > 50_000 || hits < 39_000 {
		t.Fatalf("back after %d requests over 20 credentials (want within 50,000, -1: never), then %d hits of 40,000 (want nearly all)", back, hits)
	}
}

// While aside, a sampled credential that no earlier sample saw costs a
// key, a lookup and a slot of the gate's table: it neither bumps the
// sketch nor enters the cache.
func TestVerifiedAsideSamplesLeaveTheCacheAlone(t *testing.T) {
	c := NewVerified[string](16<<10, Tag{"cookie", 1.0 / 32})
	for i := range 200_000 {
		serve(c, fmt.Sprintf("user-%06d", i%50_000))
	}
	if !c.Aside("cookie") {
		t.Fatalf("setup: not aside (%+v)", c.Stats())
	}
	bumps := func() (n uint64) {
		for i := range c.entries.shards {
			n += c.entries.shards[i].freq.bumps.Load()
		}
		return n
	}
	b0, st0 := bumps(), c.Stats()
	sampled := 0
	for i := range 64_000 {
		if _, skipped := serve(c, fmt.Sprintf("new-%06d", i)); !skipped {
			sampled++
		}
	}
	st := c.Stats()
	if sampled == 0 || bumps() != b0 || st.Entries != st0.Entries || st.Evictions != st0.Evictions {
		t.Fatalf("%d sampled requests over new credentials: sketch bumps %d -> %d, entries %d -> %d, evictions %d -> %d; want them unchanged",
			sampled, b0, bumps(), st0.Entries, st.Entries, st0.Evictions, st.Evictions)
	}
	if !c.Aside("cookie") {
		t.Fatal("new credentials, each presented once, brought the cache back")
	}
}

// While aside, a credential the samples see twice is admitted even where
// the sketch would refuse it: its counts, bumped only by samples, may
// still hold the entries from before at their most.
func TestVerifiedAsideAdmitsPastTheSketch(t *testing.T) {
	c := NewVerified[string](16<<10, Tag{"cookie", 1.0 / 32}) // about 160 entries of 100 bytes
	for i := range 400 {
		serve(c, fmt.Sprintf("user-%03d", i))
	}
	for i := range c.entries.shards { // every count at its most, and the next halving far
		sh := &c.entries.shards[i]
		for w := range sh.freq.words {
			sh.freq.words[w].Store(^uint64(0))
		}
		sh.freq.bumps.Store(1)
	}
	for range 20 {
		if hit, _ := serve(c, "while-in"); hit {
			t.Fatal("setup: the sketch admitted a newcomer into a full cache")
		}
	}
	g := &c.gates[0]
	g.hits, g.offers = c.tally.sums(0) // a review window from here
	g.aside.Store(true)
	for range 64 * 40 {
		if hit, _ := serve(c, "while-aside"); hit {
			return
		}
	}
	t.Fatalf("a credential presented %d times while aside never entered (%+v)", 64*40, c.Stats())
}

// Lookups of credentials that never verify (never offered with Put) do
// not count: a flood of them cannot push a full cache aside.
func TestVerifiedGarbageDoesNotMoveTheGate(t *testing.T) {
	c := NewVerified[string](16<<10, Tag{"cookie", 1.0 / 32}) // about 160 entries of 100 bytes
	user := func(i int) string { return fmt.Sprintf("user-%03d", i*7919%200) }
	for i := range 20_000 { // 200 users, most of them held
		serve(c, user(i))
	}
	if !c.entries.full() || c.Aside("cookie") {
		t.Fatalf("setup: full %v, aside %v; want a full cache in use", c.entries.full(), c.Aside("cookie"))
	}
	for i := range 200_000 {
		if i%100 == 0 {
			serve(c, user(i))
			continue
		}
		c.Get(0, c.Key("cookie", []string{fmt.Sprintf("garbage-%d", i)}), t0)
	}
	if c.Aside("cookie") {
		t.Fatal("garbage lookups pushed the cache aside")
	}
}

// Each tag has its own gate: with the same share of hits, a tag whose hits
// save little (a high MinHitRatio) steps aside while one whose hits save
// much stays.
func TestVerifiedGatesEachTag(t *testing.T) {
	c := NewVerified[string](16<<10, Tag{"ref", 0.75}, Tag{"bearer", 1.0 / 32}) // about 160 entries
	r := rand.New(rand.NewPCG(3, 4))
	for range 400_000 {
		tag := []string{"ref", "bearer"}[r.IntN(2)]
		k := c.Key(tag, []string{fmt.Sprintf("%s-%03d", tag, r.IntN(200))})
		if _, ok := c.Get(0, k, t0); !ok {
			c.Put(0, k, 100, t0.Add(time.Hour), t0, val("v"))
		}
	}
	if !c.Aside("ref") || c.Aside("bearer") {
		t.Fatalf("aside: ref %v, bearer %v; want true, false (%+v)", c.Aside("ref"), c.Aside("bearer"), c.Stats())
	}
	if c.Aside("undeclared") {
		t.Fatal("an undeclared tag is gated")
	}
}

// BenchmarkVerifiedAside measures what a Verified adds to a request, over
// a disabled one, while its tag is aside: requests spread evenly over a
// million 3,000-byte credentials, about 8,000 of which fit.
func BenchmarkVerifiedAside(b *testing.B) {
	src := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20+3000)
	src.Read(buf)
	creds, parts := string(buf), make([]string, 1)
	for _, bc := range []struct {
		name   string
		budget int
	}{{"off", 0}, {"aside", 32 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			c := NewVerified[string](bc.budget, Tag{"cookie", 1.0 / 8})
			r, mk := rand.New(rand.NewPCG(1, 2)), val("v")
			request := func() {
				i := r.IntN(1 << 20)
				parts[0] = creds[i : i+3000]
				k := c.Key("cookie", parts)
				if _, ok := c.Get(0, k, t0); !ok {
					c.Put(0, k, 4024, t0.Add(time.Hour), t0, mk)
				}
			}
			for range 1_000_000 {
				request()
			}
			if bc.budget > 0 && !c.Aside("cookie") {
				b.Fatalf("not aside (%+v)", c.Stats())
			}
			for b.Loop() {
				request()
			}
		})
	}
}
