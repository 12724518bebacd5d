package credcache

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestHasherSum(t *testing.T) {
	h := NewHasher()
	long := strings.Repeat("x", 3000)
	sum := func(parts ...string) Key { return h.Sum(parts) }
	tests := []struct {
		name string
		a, b Key
		same bool
	}{
		{"the cut is part of the key", sum("abc", "def"), sum("abcdef"), false},
		{"another cut", sum("ab", "cdef"), sum("abc", "def"), false},
		{"same chunks", sum(long[:1000], long[1000:2000], long[2000:]), sum(long[:1000], long[1000:2000], long[2000:]), true},
		{"one byte differs at the end", sum(long + "a"), sum(long + "b"), false},
		{"one byte differs at the start", sum("a" + long), sum("b" + long), false},
		{"one byte differs in the middle", sum(long[:1500] + "a" + long[1500:]), sum(long[:1500] + "b" + long[1500:]), false},
		{"a chunk swapped for another's", sum("mallory", long), sum("alice00", long), false},
		{"same tail, other length", sum("y" + long), sum(long), false},
		{"empty", sum(), sum(), true},
		{"an empty part counts", sum("abc", ""), sum("abc"), false},
		{"same parts", sum(long, "id"), sum(long, "id"), true},
		{"other hasher", NewHasher().Sum([]string{"abc"}), sum("abc"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a == tt.b; got != tt.same {
				t.Fatalf("got equal %v, want %v", got, tt.same)
			}
		})
	}
}

func val(v string) func() string { return func() string { return v } }

func TestCacheGetPut(t *testing.T) {
	h := NewHasher()
	k := func(s string) Key { return h.Sum([]string{s}) }
	tests := []struct {
		name    string
		budget  int
		put     string
		size    int
		until   time.Duration
		getAt   time.Duration
		wantPut bool
		wantGet bool
	}{
		{"held", 1 << 20, "a", 100, time.Hour, time.Minute, true, true},
		{"expired at until", 1 << 20, "a", 100, time.Hour, time.Hour, true, false},
		{"already expired", 1 << 20, "a", 100, 0, 0, false, false},
		{"larger than a shard", 1 << 10, "a", 1 << 10, time.Hour, 0, false, false},
		{"disabled", 0, "a", 1, time.Hour, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[string](tt.budget)
			if got := c.Put(k(tt.put), tt.size, t0.Add(tt.until), t0, val("v")); got != tt.wantPut {
				t.Fatalf("Put: got %v, want %v", got, tt.wantPut)
			}
			v, ok := c.Get(k(tt.put), t0.Add(tt.getAt))
			if ok != tt.wantGet || (ok && v != "v") {
				t.Fatalf("Get: got %q %v, want %v", v, ok, tt.wantGet)
			}
			if _, ok := c.Get(k(tt.put+"other"), t0); ok {
				t.Fatal("Get of another key found an entry")
			}
		})
	}
}

func TestCacheReplaceAndDelete(t *testing.T) {
	c := New[string](1 << 20)
	k := NewHasher().Sum([]string{"k"})
	c.Put(k, 10, t0.Add(time.Hour), t0, val("one"))
	c.Put(k, 20, t0.Add(time.Hour), t0, val("two"))
	if v, _ := c.Get(k, t0); v != "two" {
		t.Fatalf("got %q, want the newer value", v)
	}
	if st := c.Stats(); st.Entries != 1 || st.Bytes != 20 {
		t.Fatalf("got %+v, want one entry of 20 bytes", st)
	}
	c.Delete(k)
	if _, ok := c.Get(k, t0); ok {
		t.Fatal("found after Delete")
	}
	if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 || st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("got %+v, want empty with 1 hit and 1 miss", st)
	}
	var nilCache *Cache[string]
	nilCache.Delete(k)
	if st := nilCache.Stats(); st != (Stats{}) {
		t.Fatalf("nil cache: got %+v", st)
	}
}

// fill puts n keys of size bytes each, every key twice so that it passes
// the doorkeeper, and returns the keys.
func fill(c *Cache[int], h Hasher, prefix string, n, size int, now time.Time) []Key {
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = h.Sum([]string{fmt.Sprint(prefix, i)})
		for range 2 {
			c.Put(keys[i], size, now.Add(time.Hour), now, func() int { return i })
		}
	}
	return keys
}

func TestCacheStaysWithinBudget(t *testing.T) {
	const budget, size = 64 << 10, 1000
	c := New[int](budget)
	h := NewHasher()
	fill(c, h, "k", 1000, size, t0)
	st := c.Stats()
	if st.Bytes > budget || st.Bytes != int64(st.Entries*size) || st.Entries == 0 {
		t.Fatalf("got %+v, want at most %d bytes in entries of %d", st, budget, size)
	}
	if st.Evictions == 0 || st.Evictions > uint64(1000-st.Entries) {
		t.Fatalf("got %d evictions of 1000 keys with %d held, want some, at most the keys not held", st.Evictions, st.Entries)
	}
	for i := range c.shards {
		sh := &c.shards[i]
		var bytes int64
		for p := range sh.table.cells {
			if e := &sh.table.cells[p]; e.until != 0 {
				bytes += int64(e.size)
				if sh.table.find(e.key) != p {
					t.Fatalf("shard %d: cell %d's key found elsewhere", i, p)
				}
			}
		}
		if bytes != sh.used.Load() {
			t.Fatalf("shard %d: cells hold %d bytes, %d counted", i, bytes, sh.used.Load())
		}
	}
}

// A scan of keys each seen once does not flush the entries that requests
// keep coming back to.
func TestCacheScanResistance(t *testing.T) {
	const budget, size = 256 << 10, 1000 // about 256 entries
	c := New[int](budget)
	h := NewHasher()
	hot := fill(c, h, "hot", 150, size, t0)
	for i := range 20000 {
		c.Put(h.Sum([]string{fmt.Sprint("scan", i)}), size, t0.Add(time.Hour), t0, func() int { return -1 })
		if i%50 == 0 { // the working set keeps being read
			for _, k := range hot {
				c.Get(k, t0)
			}
		}
	}
	held := 0
	for _, k := range hot {
		if _, ok := c.Get(k, t0); ok {
			held++
		}
	}
	if held < len(hot)*9/10 {
		t.Fatalf("got %d of %d hot entries held after a scan, want at least 90%%", held, len(hot))
	}
}

// Entries read again survive eviction better than entries never read:
// the CLOCK hand spares referenced ones.
func TestCacheEvictsUnreferencedFirst(t *testing.T) {
	const budget, size = 256 << 10, 1000
	c := New[int](budget)
	h := NewHasher()
	keys := fill(c, h, "a", 200, size, t0)
	for _, k := range keys[:100] {
		c.Get(k, t0)
	}
	fill(c, h, "b", 100, size, t0)
	read, unread := 0, 0
	for i, k := range keys {
		if _, ok := c.Get(k, t0); ok {
			if i < 100 {
				read++
			} else {
				unread++
			}
		}
	}
	if read <= unread {
		t.Fatalf("got %d read entries held, %d unread, want more read ones", read, unread)
	}
}

// Expired entries are reclaimed by inserts, with room to spare.
func TestCacheReclaimsExpired(t *testing.T) {
	c := New[int](1 << 20)
	h := NewHasher()
	for i := range 100 {
		c.Put(h.Sum([]string{fmt.Sprint("old", i)}), 10, t0.Add(time.Second), t0, func() int { return i })
	}
	later := t0.Add(time.Minute)
	// Reclaiming is amortised over inserts (each moves its shard's hand
	// two entries, and a removal can shift an entry under it), so how many
	// rounds it takes depends on the seeds' spread over the shards; a few
	// suffice, and nothing live is ever evicted to make room.
	rounds := 0
	for st := c.Stats(); rounds < 10 && (rounds == 0 || st.Entries != 200); st = c.Stats() {
		for i := range 200 {
			c.Put(h.Sum([]string{fmt.Sprint("new", i)}), 10, later.Add(time.Hour), later, func() int { return i })
		}
		rounds++
	}
	if st := c.Stats(); st.Entries != 200 || st.Evictions != 0 {
		t.Fatalf("after %d rounds: got %d entries, %d evictions, want the 200 live ones only, none evicted (the rest expired)", rounds, st.Entries, st.Evictions)
	}
}

// The first sighting of a key is admitted while there is room, and only
// the second once the cache is full.
func TestCacheAdmission(t *testing.T) {
	c := New[int](16 * 100) // 100 bytes a shard
	h := NewHasher()
	k := h.Sum([]string{"first"})
	if !c.Put(k, 60, t0.Add(time.Hour), t0, func() int { return 1 }) {
		t.Fatal("refused with room to spare")
	}
	sh := c.shard(k)
	var other Key
	for i := 0; ; i++ { // a key of the same shard
		if other = h.Sum([]string{fmt.Sprint("other", i)}); c.shard(other) == sh {
			break
		}
	}
	made := 0
	mk := func() int { made++; return 2 }
	if c.Put(other, 60, t0.Add(time.Hour), t0, mk) || made != 0 {
		t.Fatalf("admitted on first sight into a full shard (made %d)", made)
	}
	if !c.Put(other, 60, t0.Add(time.Hour), t0, mk) || made != 1 {
		t.Fatal("refused on second sight")
	}
	if _, ok := c.Get(k, t0); ok {
		t.Fatal("the victim is still held beyond the budget")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := New[int](64 << 10)
	h := NewHasher()
	keys := make([]Key, 500)
	for i := range keys {
		keys[i] = h.Sum([]string{fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				j := (i*7 + g*13) % len(keys)
				switch i % 5 {
				case 0:
					c.Delete(keys[j])
				case 1, 2:
					c.Put(keys[j], 500, t0.Add(time.Hour), t0, func() int { return j })
				default:
					if v, ok := c.Get(keys[j], t0); ok && v != j {
						t.Errorf("key %d: got value %d", j, v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if st := c.Stats(); st.Bytes > 64<<10 || st.Bytes != int64(st.Entries*500) {
		t.Fatalf("got %+v, want within budget and consistent", st)
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New[int](32 << 20)
	h := NewHasher()
	cred := []string{strings.Repeat("c", 3024)}
	k := h.Sum(cred)
	c.Put(k, 4096, t0.Add(time.Hour), t0, func() int { return 1 })
	for b.Loop() {
		if _, ok := c.Get(h.Sum(cred), t0); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkHasherSum is the per-request cost of keying a 3 KB credential,
// whole and in two chunks.
func BenchmarkHasherSum(b *testing.B) {
	h := NewHasher()
	cred := strings.Repeat("0123456789abcdef", 192)
	for _, bc := range []struct {
		name  string
		parts []string
	}{
		{"one_part", []string{cred}},
		{"two_chunks", []string{cred[:2000], cred[2000:]}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(cred)))
			for b.Loop() {
				_ = h.Sum(bc.parts)
			}
		})
	}
}

// BenchmarkGetMany looks up keys drawn at random, as requests spread
// over n sessions do, in a cache that holds n: held ones (hit) and others
// (miss, which probes to an empty cell). At large n the shards' tables
// are cold in memory.
func BenchmarkGetMany(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		c := New[int](n * 2048)
		h := NewHasher()
		held, other := make([]Key, n), make([]Key, n)
		for i := range held {
			held[i] = h.Sum([]string{fmt.Sprint("cred-", i)})
			other[i] = h.Sum([]string{fmt.Sprint("other-", i)})
			c.Put(held[i], 1024, t0.Add(time.Hour), t0, func() int { return i })
		}
		for _, bc := range []struct {
			name string
			keys []Key
			hit  bool
		}{{"hit", held, true}, {"miss", other, false}} {
			b.Run(fmt.Sprint(bc.name, "/", n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					if _, ok := c.Get(bc.keys[r.IntN(n)], t0); ok != bc.hit {
						b.Fatalf("hit %v, want %v", ok, bc.hit)
					}
				}
			})
		}
	}
}
