package flow

import "sync"

// MaxUsed is the bound of the Used record of a Manager: about 100 bytes an
// entry.
const MaxUsed = 1 << 15

// Used records the states of finished callbacks until their cookies
// expire, for a Manager whose Store cannot record one-time keys. It holds
// at most max entries: past that the oldest is forgotten early, so a flood
// of more than max callbacks within a state's lifetime reopens the oldest
// states to one replay each. It is safe for concurrent use.
type Used struct {
	mu    sync.Mutex
	max   int
	seen  map[string]int64 // state → expiry, Unix seconds
	queue []used           // insertion order, from head
	head  int
}

type used struct {
	state   string
	expires int64
}

// NewUsed returns an empty record of at most max states.
func NewUsed(max int) *Used {
	return &Used{max: max, seen: map[string]int64{}}
}

// Consume records state until expires and reports whether it was not
// recorded yet. Amortized O(1).
func (u *Used) Consume(state string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if exp, ok := u.seen[state]; ok && exp > now {
		return false
	}
	for u.head < len(u.queue) && (u.queue[u.head].expires <= now || len(u.queue)-u.head >= u.max) {
		e := u.queue[u.head]
		if u.seen[e.state] == e.expires {
			delete(u.seen, e.state)
		}
		u.queue[u.head] = used{}
		u.head++
	}
	if u.head > 64 && 2*u.head >= len(u.queue) {
		n := copy(u.queue, u.queue[u.head:])
		clear(u.queue[n:])
		u.queue, u.head = u.queue[:n], 0
	}
	u.seen[state] = expires
	u.queue = append(u.queue, used{state, expires})
	return true
}
