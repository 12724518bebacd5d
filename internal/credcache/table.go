package credcache

// table holds a shard's entries in an open-addressing hash table with
// linear probing over a power-of-two array of cells, each an entry with
// its value inline: a lookup reads the cell its Key hashes to and, far
// more often than not, nothing past the cache lines that follow it, where
// the whole Key is compared and the value read. A cell whose until is 0
// is empty. Deletion shifts the cells that follow back into the hole, so
// that no tombstones build up. The table grows past 3/4 full and, at the
// start of an insert, shrinks below 1/16, so that a CLOCK hand walking it
// passes, on average, at most about 16 empty cells per entry.
type table[V any] struct {
	cells []entry[V]
	n     int // cells in use
}

type entry[V any] struct {
	key   Key
	until int64  // unix nanoseconds: not served at or after; 0 for an empty cell
	size  int32  // declared bytes
	ref   uint32 // atomic: read since the hand last passed
	val   V
}

const minCells = 16

func (t *table[V]) mask() uint64 { return uint64(len(t.cells) - 1) }

// find returns where k is, or -1.
func (t *table[V]) find(k Key) int {
	if t.n == 0 {
		return -1
	}
	m := t.mask()
	for p := k.hi & m; ; p = (p + 1) & m {
		e := &t.cells[p]
		if e.until == 0 {
			return -1
		}
		if e.key == k {
			return int(p)
		}
	}
}

// insert puts e, whose Key is not held and whose until is not 0, in the
// first empty cell from its home on. It grows the table first if e would
// fill it past 3/4: positions held before change.
func (t *table[V]) insert(e entry[V]) {
	if 4*(t.n+1) > 3*len(t.cells) {
		t.resize(max(2*len(t.cells), minCells))
	}
	t.n++
	t.place(e)
}

func (t *table[V]) place(e entry[V]) {
	m := t.mask()
	p := e.key.hi & m
	for t.cells[p].until != 0 {
		p = (p + 1) & m
	}
	t.cells[p] = e
}

// shrink halves the table while it is less than 1/16 full, and reports
// whether it did: positions held before change.
func (t *table[V]) shrink() bool {
	if len(t.cells) <= minCells || 16*t.n >= len(t.cells) {
		return false
	}
	size := len(t.cells)
	for size > minCells && 16*t.n < size {
		size /= 2
	}
	t.resize(size)
	return true
}

func (t *table[V]) resize(size int) {
	old := t.cells
	t.cells = make([]entry[V], size)
	for i := range old {
		if old[i].until != 0 {
			t.place(old[i])
		}
	}
}

// remove empties cell p, which must be in use. The cell may then hold an
// entry shifted back from a later one.
func (t *table[V]) remove(p int) {
	m, hole := t.mask(), uint64(p)
	for q := (hole + 1) & m; t.cells[q].until != 0; q = (q + 1) & m {
		// The entry at q may fill the hole unless its home lies cyclically
		// in (hole, q]: then it would move before its home.
		home := t.cells[q].key.hi & m
		if (q-home)&m >= (q-hole)&m {
			t.cells[hole] = t.cells[q]
			hole = q
		}
	}
	t.cells[hole] = entry[V]{} // let the collector have the value
	t.n--
}
