// Package memstore is an in-process store.Store: the embedded default
// for server-side sessions on a single instance. Records, locks and
// one-time markers live in this process's memory, bounded by
// Config.MaxSessions, and are lost when it exits; for several instances
// behind a load balancer, use the Redis store (package redisstore), which
// they can share.
package memstore

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxSessions bounds a Store's records when Config.MaxSessions
	// is zero. At 2 to 4 KiB per encoded session with OAuth tokens, that is
	// a few hundred MiB at most.
	DefaultMaxSessions = 100_000
	// DefaultSweepInterval is how often expired entries are reclaimed when
	// Config.SweepInterval is zero.
	DefaultSweepInterval = time.Minute
)

// ErrFull means the store holds Config.MaxSessions live records (or as
// many held locks, or as many one-time markers) and refuses a new one.
// Updates of existing records always go through.
var ErrFull = errors.New("sessionkit: memstore: store full")

// sweepBatch is the most entries a sweep removes while holding the store's
// lock, so that requests wait at most that long.
const sweepBatch = 256

// Config configures a Store. The zero value is valid.
type Config struct {
	// MaxSessions caps the records the store holds; it also caps, each on
	// its own, the locks held and the one-time markers (Consume) kept.
	// Default DefaultMaxSessions. Once the cap is reached, creating a
	// record, a lock or a marker first reclaims what has expired and, if
	// nothing has, fails with ErrFull. The store never evicts a live
	// session to make room: that would sign out a user chosen by whoever
	// can create sessions fastest, and turn a compare-and-set into a
	// spurious ErrNotFound. Refusing new sign-ins is visible, and leaves
	// the signed-in users alone.
	MaxSessions int
	// SweepInterval is how often a background goroutine reclaims the
	// memory of expired entries. Default DefaultSweepInterval. Expired
	// entries are invisible from the instant they expire, swept or not; a
	// sweep holds the store's lock for at most a small batch of removals
	// at a time, so requests never wait for a whole sweep.
	SweepInterval time.Duration
	// Now is the store's clock, compared with Record.ExpireAt and lock and
	// marker lifetimes. Default time.Now.
	Now func() time.Time
}

// Store is an in-memory store.Store. It is safe for concurrent use.
// Create it with New and stop its sweeper with Close.
type Store struct {
	now func() time.Time
	max int

	mu       sync.RWMutex
	sessions map[string]*entry
	byUser   map[string]idSet
	bySID    map[string]idSet
	locks    map[string]*lockEntry
	marks    map[string]*item
	expiries expiries
	tokens   uint64 // the last lock token handed out

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// New returns a Store configured by cfg, with its sweeper running. It
// reports a field of cfg that is out of range.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.MaxSessions < 0:
		return nil, errors.New("sessionkit: memstore: Config.MaxSessions must not be negative")
	case cfg.SweepInterval < 0:
		return nil, errors.New("sessionkit: memstore: Config.SweepInterval must not be negative")
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{
		now:      cfg.Now,
		max:      cfg.MaxSessions,
		sessions: make(map[string]*entry),
		byUser:   make(map[string]idSet),
		bySID:    make(map[string]idSet),
		locks:    make(map[string]*lockEntry),
		marks:    make(map[string]*item),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.sweeper(cfg.SweepInterval)
	return s, nil
}

// Close stops the sweeper and waits for it to return. The store stays
// usable (expired entries stay invisible, though no longer reclaimed in
// the background), so requests still in flight during a shutdown do not
// fail. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

// Len reports how many records the store holds, counting expired records
// not yet reclaimed; compare it with Config.MaxSessions.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Load implements store.Store. For a caller that only reads (see
// store.SharedLoad) the Record shares the store's own copies, which
// are never changed in place; any other caller gets copies of its own.
func (s *Store) Load(ctx context.Context, id string) (store.Record, error) {
	if store.SharedLoad(ctx, s) {
		return s.load(ctx, id, (*entry).shared)
	}
	return s.load(ctx, id, (*entry).record)
}

// load returns the live record of id, as get makes it of its entry.
func (s *Store) load(ctx context.Context, id string, get func(*entry) store.Record) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.sessions[id]
	if e == nil || !e.at.after(now) {
		return store.Record{}, store.ErrNotFound
	}
	return get(e), nil
}

// Save implements store.Store.
func (s *Store) Save(ctx context.Context, rec store.Record) (uint64, error) {
	if err := rec.Validate(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.sessions[rec.ID]
	if e != nil && !e.at.after(now) {
		s.remove(&e.item)
		e = nil
	}
	switch {
	case rec.Version == 0 && e != nil:
		return 0, store.ErrConflict
	case rec.Version != 0 && e == nil:
		return 0, store.ErrNotFound
	case rec.Version != 0 && e.version != rec.Version:
		return 0, store.ErrConflict
	}
	version := rec.Version + 1
	if !rec.ExpireAt.After(now) { // saved as expired: gone
		if e != nil {
			s.remove(&e.item)
		}
		return version, nil
	}
	if e == nil {
		if !s.room(kindSession, now) {
			return 0, ErrFull
		}
		e = &entry{item: item{kind: kindSession, key: rec.ID, at: instantOf(rec.ExpireAt)}}
		s.sessions[rec.ID] = e
		heap.Push(&s.expiries, &e.item)
	} else {
		s.unindex(e)
		e.at = instantOf(rec.ExpireAt)
		heap.Fix(&s.expiries, e.index)
	}
	s.fill(e, &rec, version)
	return version, nil
}

// fill copies rec into e, at version, and indexes e. The caller holds mu.
func (s *Store) fill(e *entry, rec *store.Record, version uint64) {
	e.userID = rec.UserID
	e.others = slices.Clone(rec.OtherUserIDs)
	e.sids = slices.Clone(rec.ProviderSessionIDs)
	e.data = bytes.Clone(rec.Data)
	e.version = version
	addIndex(s.byUser, e.userID, e.key)
	for _, u := range e.others {
		addIndex(s.byUser, u, e.key)
	}
	for _, sid := range e.sids {
		addIndex(s.bySID, sid, e.key)
	}
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.sessions[id]; e != nil {
		s.remove(&e.item)
	}
	return nil
}

// ListByUser implements store.Store.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]store.Record, error) {
	return s.list(ctx, s.byUser, userID)
}

// ListByProviderSession implements store.Store.
func (s *Store) ListByProviderSession(ctx context.Context, sid string) ([]store.Record, error) {
	return s.list(ctx, s.bySID, sid)
}

func (s *Store) list(ctx context.Context, index map[string]idSet, key string) ([]store.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var recs []store.Record
	for id := range index[key].all {
		if e := s.sessions[id]; e != nil && e.at.after(now) {
			recs = append(recs, e.record())
		}
	}
	return recs, nil
}

// Lock implements store.Store. Its unlock func never fails but for a
// done ctx.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if err := store.ValidateLease("Lock", key, ttl); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.locks[key]
	switch {
	case l != nil && l.at.after(now):
		return nil, store.ErrLocked
	case l != nil:
		l.at = instantOf(now.Add(ttl))
		heap.Fix(&s.expiries, l.index)
	default:
		if !s.room(kindLock, now) {
			return nil, ErrFull
		}
		l = &lockEntry{item: item{kind: kindLock, key: key, at: instantOf(now.Add(ttl))}}
		s.locks[key] = l
		heap.Push(&s.expiries, &l.item)
	}
	s.tokens++
	token := s.tokens
	l.token = token
	return func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// The token tells this holder's lock from a later holder's, once
		// this one's has expired and the key been locked again.
		if l := s.locks[key]; l != nil && l.token == token {
			s.remove(&l.item)
		}
		return nil
	}, nil
}

// Consume implements store.Store.
func (s *Store) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := store.ValidateLease("Consume", key, ttl); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.marks[key]
	switch {
	case m != nil && m.at.after(now):
		return false, nil
	case m != nil:
		m.at = instantOf(now.Add(ttl))
		heap.Fix(&s.expiries, m.index)
	default:
		if !s.room(kindMark, now) {
			return false, ErrFull
		}
		m = &item{kind: kindMark, key: key, at: instantOf(now.Add(ttl))}
		s.marks[key] = m
		heap.Push(&s.expiries, m)
	}
	return true, nil
}

// room reports whether the table of kind k can take one more entry,
// reclaiming expired entries (of any table) while it is full. The store's
// lock must be held. Each expired entry is reclaimed once, so the work is
// amortized over the writes that made the entries.
func (s *Store) room(k kind, now time.Time) bool {
	for s.count(k) >= s.max {
		if len(s.expiries) == 0 || s.expiries[0].at.after(now) {
			return false
		}
		s.remove(s.expiries[0])
	}
	return true
}

func (s *Store) count(k kind) int {
	switch k {
	case kindSession:
		return len(s.sessions)
	case kindLock:
		return len(s.locks)
	}
	return len(s.marks)
}

func (s *Store) sweeper(every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.sweep()
		}
	}
}

// sweep reclaims every expired entry, a batch at a time.
func (s *Store) sweep() {
	for {
		now := s.now()
		s.mu.Lock()
		n := 0
		for ; n < sweepBatch && len(s.expiries) > 0 && !s.expiries[0].at.after(now); n++ {
			s.remove(s.expiries[0])
		}
		s.mu.Unlock()
		if n < sweepBatch {
			return
		}
		select {
		case <-s.stop:
			return
		default:
		}
	}
}

// remove drops an entry from its table, its indexes and the expiry heap.
// The store's lock must be held.
func (s *Store) remove(it *item) {
	heap.Remove(&s.expiries, it.index)
	switch it.kind {
	case kindSession:
		e := s.sessions[it.key]
		s.unindex(e)
		delete(s.sessions, it.key)
	case kindLock:
		delete(s.locks, it.key)
	case kindMark:
		delete(s.marks, it.key)
	}
}

func (s *Store) unindex(e *entry) {
	removeIndex(s.byUser, e.userID, e.key)
	for _, u := range e.others {
		removeIndex(s.byUser, u, e.key)
	}
	for _, sid := range e.sids {
		removeIndex(s.bySID, sid, e.key)
	}
}

// idSet is the set of session IDs an index key maps to. Most users have
// one session, most provider sessions one sign-in: that one ID is held
// inline, and a map is made only for the others, so that an index costs
// no allocation of its own for a single ID.
type idSet struct {
	one  string
	more map[string]struct{}
}

// all yields every ID of the set.
func (set idSet) all(yield func(string) bool) {
	if set.one != "" && !yield(set.one) {
		return
	}
	for id := range set.more {
		if !yield(id) {
			return
		}
	}
}

func addIndex(index map[string]idSet, key, id string) {
	set := index[key]
	switch {
	case set.one == "" || set.one == id:
		set.one = id
	case set.more == nil:
		set.more = map[string]struct{}{id: {}}
	default:
		set.more[id] = struct{}{}
	}
	index[key] = set
}

func removeIndex(index map[string]idSet, key, id string) {
	set, ok := index[key]
	if !ok {
		return
	}
	if set.one == id {
		set.one = ""
		for other := range set.more { // promote any other
			set.one = other
			delete(set.more, other)
			break
		}
	} else {
		delete(set.more, id)
	}
	if len(set.more) == 0 {
		set.more = nil
	}
	if set.one == "" {
		delete(index, key)
		return
	}
	index[key] = set
}

// instant is a time as Unix nanoseconds, saturated at the ends of int64's
// range: unlike a time.Time, it holds no pointer for the collector to
// follow.
type instant int64

func instantOf(t time.Time) instant {
	switch {
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case t.Unix() <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return instant(t.UnixNano())
}

// after reports whether i is after t.
func (i instant) after(t time.Time) bool { return i > instantOf(t) }

func (i instant) time() time.Time { return time.Unix(0, int64(i)) }

type kind uint8

const (
	kindSession kind = iota
	kindLock
	kindMark
)

// item is an entry of any table, as the expiry heap orders it.
type item struct {
	kind  kind
	key   string
	at    instant // expiry
	index int     // in the heap
}

type entry struct {
	item
	userID  string
	others  []string // OtherUserIDs
	sids    []string
	version uint64
	data    []byte
}

// record returns the caller's own copy of e's record.
func (e *entry) record() store.Record {
	r := e.shared()
	r.OtherUserIDs = slices.Clone(r.OtherUserIDs)
	r.ProviderSessionIDs = slices.Clone(r.ProviderSessionIDs)
	r.Data = bytes.Clone(r.Data)
	return r
}

// shared returns e's record, sharing e's slices, which are never modified
// in place; clipped, so that an append by the caller copies them.
func (e *entry) shared() store.Record {
	return store.Record{
		ID:                 e.key,
		UserID:             e.userID,
		OtherUserIDs:       slices.Clip(e.others),
		ProviderSessionIDs: slices.Clip(e.sids),
		Version:            e.version,
		ExpireAt:           e.at.time(),
		Data:               slices.Clip(e.data),
	}
}

type lockEntry struct {
	item
	token uint64
}

// expiries is a min-heap of items by expiry.
type expiries []*item

func (h expiries) Len() int           { return len(h) }
func (h expiries) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiries) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *expiries) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *expiries) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.index = -1
	return it
}
