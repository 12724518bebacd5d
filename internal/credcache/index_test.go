package credcache

import (
	"math/rand/v2"
	"testing"
)

// The index agrees with a map through random sets, moves and removes,
// with keys whose cells collide often (few distinct low halves of hi), so
// that probe runs wrap around the table and deletions shift them back.
func TestIndexAgreesWithAMap(t *testing.T) {
	for _, spread := range []uint64{1, 7, 64, 1 << 32} {
		r := rand.New(rand.NewPCG(spread, 1))
		var (
			x     index
			keys  []Key // by slot position, as a shard's slots hold them
			model = map[Key]int32{}
		)
		keyAt := func(i int32) Key { return keys[i] }
		check := func(op int) {
			if x.n != len(model) {
				t.Fatalf("spread %d, op %d: %d indexed, want %d", spread, op, x.n, len(model))
			}
			for k, want := range model {
				if got, ok := x.get(k, keyAt); !ok || got != want {
					t.Fatalf("spread %d, op %d: key at %d, %v; want %d", spread, op, got, ok, want)
				}
			}
		}
		for op := range 5000 {
			switch k := (Key{hi: r.Uint64N(spread) | r.Uint64N(4)<<32, lo: r.Uint64N(300)}); {
			case r.IntN(3) > 0 && !contains(model, k):
				x.set(k, int32(len(keys)))
				model[k] = int32(len(keys))
				keys = append(keys, k)
			case len(keys) > 0: // remove a random slot, the last moving in, as shard.remove does
				i := r.IntN(len(keys))
				gone, last := keys[i], len(keys)-1
				x.remove(gone, keyAt)
				delete(model, gone)
				if i != last {
					keys[i] = keys[last]
					x.move(keys[i], int32(i), keyAt)
					model[keys[i]] = int32(i)
				}
				keys = keys[:last]
				if _, ok := x.get(gone, keyAt); ok {
					t.Fatalf("spread %d, op %d: a removed key is still found", spread, op)
				}
			}
			if op%50 == 0 {
				check(op)
			}
		}
		check(5000)
	}
}

func contains(m map[Key]int32, k Key) bool { _, ok := m[k]; return ok }
