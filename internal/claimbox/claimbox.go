// Package claimbox holds a set of verified JWT claims that many readers
// share read-only until one asks for a copy it may change: the copy is
// made once, on first demand, so a reader that never looks at the claims
// never pays for copying them.
package claimbox

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Box holds claims: shared is the verified map, which is never changed and
// may be shared by many boxes; own is the box's deep copy, made by the
// first Get. A Box must not be copied after first use.
type Box struct {
	shared map[string]any
	own    atomic.Pointer[map[string]any]
	mu     sync.Mutex // serializes making own
}

// Owned returns a box owning m, which no one else may hold, or nil for
// nil.
func Owned(m map[string]any) *Box {
	if m == nil {
		return nil
	}
	b := &Box{}
	b.Adopt(m)
	return b
}

// Share makes m the box's shared claims: m must never be changed
// afterwards. For a box not yet in use.
func (b *Box) Share(m map[string]any) { b.shared = m }

// Get returns the box's own claims, which the caller may change, making
// them from the shared ones on first use. It is safe for concurrent use;
// the copy is made once.
func (b *Box) Get() map[string]any {
	if p := b.own.Load(); p != nil {
		return *p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.own.Load(); p != nil {
		return *p
	}
	m := Clone(b.shared)
	b.Adopt(m)
	return m
}

// Adopt makes m the box's own claims, which no one else holds.
func (b *Box) Adopt(m map[string]any) { b.own.Store(&m) }

// Peek returns the claims without copying them, for reading only: the own
// map if made, the shared one otherwise. nil for a nil box.
func (b *Box) Peek() map[string]any {
	if b == nil {
		return nil
	}
	if p := b.own.Load(); p != nil {
		return *p
	}
	return b.shared
}

// CloneInto makes dst, a box not yet in use, hold the same claims as b:
// sharing b's shared map when b's own copy was never made, a deep copy of
// b's own map otherwise.
func (b *Box) CloneInto(dst *Box) {
	if p := b.own.Load(); p != nil {
		dst.Adopt(Clone(*p))
		return
	}
	dst.shared = b.shared
}

// Clone deep-copies a decoded JSON object: maps and slices are copied,
// scalars (string, float64, bool, json.Number, nil) are immutable.
func Clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := maps.Clone(m)
	for k, v := range c {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return Clone(t)
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = cloneValue(e)
		}
		return c
	case []string:
		return slices.Clone(t)
	default:
		return v
	}
}
