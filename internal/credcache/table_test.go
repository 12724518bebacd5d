package credcache

import (
	"math/rand/v2"
	"testing"
)

// The table agrees with a map through random inserts, removes and
// shrinks, with keys whose cells collide often (few distinct low bits of
// hi), so that probe runs wrap around the table and deletions shift them
// back.
func TestTableAgreesWithAMap(t *testing.T) {
	for _, spread := range []uint64{1, 7, 64, 1 << 32} {
		r := rand.New(rand.NewPCG(spread, 1))
		var (
			x     table[int]
			model = map[Key]int{}
		)
		check := func(op int) {
			t.Helper()
			if x.n != len(model) {
				t.Fatalf("spread %d, op %d: %d held, want %d", spread, op, x.n, len(model))
			}
			inUse := 0
			for p := range x.cells {
				if x.cells[p].until != 0 {
					inUse++
				}
			}
			if inUse != x.n {
				t.Fatalf("spread %d, op %d: %d cells in use, %d counted", spread, op, inUse, x.n)
			}
			for k, want := range model {
				if p := x.find(k); p < 0 || x.cells[p].val != want {
					t.Fatalf("spread %d, op %d: key at %d; want value %d", spread, op, p, want)
				}
			}
		}
		for op := range 8000 {
			k := Key{hi: r.Uint64N(spread) | r.Uint64N(4)<<32, lo: r.Uint64N(300)}
			// Grow for the first half, then mostly remove, so the table
			// shrinks too.
			insert := r.IntN(4) > 0
			if op > 4000 {
				insert = r.IntN(8) == 0
			}
			switch p := x.find(k); {
			case insert && p < 0:
				x.insert(entry[int]{key: k, until: 1, val: op})
				model[k] = op
			case !insert && p >= 0:
				x.remove(p)
				delete(model, k)
				if x.find(k) >= 0 {
					t.Fatalf("spread %d, op %d: a removed key is still found", spread, op)
				}
				x.shrink()
			}
			if op%50 == 0 {
				check(op)
			}
		}
		check(8000)
		if len(x.cells) > minCells && 16*x.n < len(x.cells) {
			t.Fatalf("spread %d: %d held in %d cells after shrinking", spread, x.n, len(x.cells))
		}
	}
}
