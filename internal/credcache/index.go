package credcache

// index maps the Keys of a shard to their positions in its slot array. It
// is an open-addressing table with linear probing over a power-of-two
// array of cells, at most half full: a lookup reads one cell, and its
// neighbours in the same cache line, far more often than not, then the
// slot it names, where the whole Key is compared. A cell is 0 when empty,
// else the low 32 bits of the Key's hi half (which also place it) above
// its slot's position plus one. Deletion shifts the cells that follow
// back into the hole, so that no tombstones build up.
type index struct {
	cells []uint64
	n     int // cells in use
}

const minIndexCells = 16

func cell(k Key, pos int32) uint64 { return uint64(uint32(k.hi))<<32 | uint64(pos+1) }

func (x *index) mask() uint32 { return uint32(len(x.cells) - 1) }

// find returns where k's cell is, or -1; keyAt returns the Key of a slot.
func (x *index) find(k Key, keyAt func(int32) Key) int {
	if x.n == 0 {
		return -1
	}
	h, m := uint32(k.hi), x.mask()
	for p := h & m; ; p = (p + 1) & m {
		c := x.cells[p]
		if c == 0 {
			return -1
		}
		if uint32(c>>32) == h && keyAt(int32(c)-1) == k {
			return int(p)
		}
	}
}

// get returns the slot position of k, if held.
func (x *index) get(k Key, keyAt func(int32) Key) (int32, bool) {
	p := x.find(k, keyAt)
	if p < 0 {
		return 0, false
	}
	return int32(x.cells[p]) - 1, true
}

// set records that k, not held yet, is at slot position pos.
func (x *index) set(k Key, pos int32) {
	if 2*(x.n+1) > len(x.cells) {
		x.grow()
	}
	x.place(cell(k, pos))
	x.n++
}

// place puts c in the first empty cell from its home on.
func (x *index) place(c uint64) {
	m := x.mask()
	p := uint32(c>>32) & m
	for x.cells[p] != 0 {
		p = (p + 1) & m
	}
	x.cells[p] = c
}

func (x *index) grow() {
	old := x.cells
	x.cells = make([]uint64, max(2*len(old), minIndexCells))
	for _, c := range old {
		if c != 0 {
			x.place(c)
		}
	}
}

// move records that k, held, is now at slot position pos.
func (x *index) move(k Key, pos int32, keyAt func(int32) Key) {
	if p := x.find(k, keyAt); p >= 0 {
		x.cells[p] = cell(k, pos)
	}
}

// remove forgets k, if held.
func (x *index) remove(k Key, keyAt func(int32) Key) {
	p := x.find(k, keyAt)
	if p < 0 {
		return
	}
	m, hole := x.mask(), uint32(p)
	for q := (hole + 1) & m; x.cells[q] != 0; q = (q + 1) & m {
		// The cell at q may fill the hole unless its home lies cyclically
		// in (hole, q]: then it would move before its home.
		home := uint32(x.cells[q]>>32) & m
		if (q-home)&m >= (q-hole)&m {
			x.cells[hole] = x.cells[q]
			hole = q
		}
	}
	x.cells[hole] = 0
	x.n--
}
