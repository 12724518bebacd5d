// Package storetest is the conformance suite of store.Store: one set of
// tests that every store of this repository passes, run by each store's own
// tests with Run.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// Harness is one store under test, with its clock.
type Harness struct {
	// Store is the store under test. Each harness gets a store of its own,
	// or its own namespace of a shared one: the subtests run in parallel.
	Store store.Store
	// Now is the clock the store compares Record.ExpireAt with. Default
	// time.Now.
	Now func() time.Time
	// Advance lets d pass on the store's clock: a fake clock moves on, a
	// real one sleeps. Default time.Sleep.
	Advance func(d time.Duration)
	// Full means the store implements every optional interface of package
	// store: a missing one fails the suite instead of skipping its tests.
	Full bool
}

// harness is a Harness with the store's optional interfaces, each nil when
// the store does not implement it.
type harness struct {
	Harness
	users    store.UserLister
	psids    store.ProviderSessionLister
	locker   store.Locker
	consumer store.Consumer
}

// capabilities names what a test needs beyond store.Store.
type capabilities uint8

const (
	needUsers capabilities = 1 << iota
	needPSIDs
	needLocker
	needConsumer
)

func newHarness(h Harness) harness {
	out := harness{Harness: h}
	out.users, _ = h.Store.(store.UserLister)
	out.psids, _ = h.Store.(store.ProviderSessionLister)
	out.locker, _ = h.Store.(store.Locker)
	out.consumer, _ = h.Store.(store.Consumer)
	return out
}

// missing returns the name of an interface of needs that h's store does
// not implement, or "".
func (h harness) missing(needs capabilities) string {
	switch {
	case needs&needUsers != 0 && h.users == nil:
		return "store.UserLister"
	case needs&needPSIDs != 0 && h.psids == nil:
		return "store.ProviderSessionLister"
	case needs&needLocker != 0 && h.locker == nil:
		return "store.Locker"
	case needs&needConsumer != 0 && h.consumer == nil:
		return "store.Consumer"
	}
	return ""
}

// The lifetimes the expiry tests use: long enough that a store on a busy
// machine still holds a record before it, short enough to keep the suite
// fast when Advance has to sleep.
const (
	shortTTL = time.Second
	pastTTL  = shortTTL + 300*time.Millisecond
	longTTL  = time.Hour
)

// Run runs the conformance suite, each test as a parallel subtest on the
// Harness that newH returns for it. newH registers with
// t.Cleanup whatever must be closed.
func Run(t *testing.T, newH func(t *testing.T) Harness) {
	tests := []struct {
		name  string
		run   func(t *testing.T, h harness)
		needs capabilities
	}{
		{"CreateLoad", testCreateLoad, 0},
		{"Update", testUpdate, 0},
		{"Delete", testDelete, 0},
		{"NotFound", testNotFound, 0},
		{"Invalid", testInvalid, 0},
		{"Ownership", testOwnership, 0},
		{"Expiry", testExpiry, 0},
		{"ExtendExpiry", testExtendExpiry, 0},
		{"SaveExpired", testSaveExpired, 0},
		{"ListByUser", testListByUser, needUsers},
		{"ListByProviderSession", testListByProviderSession, needPSIDs},
		{"ConflictRace", testConflictRace, 0},
		{"CreateRace", testCreateRace, 0},
		{"Lock", testLock, needLocker},
		{"LockContention", testLockContention, needLocker},
		{"LockExpiry", testLockExpiry, needLocker},
		{"RefreshOnce", testRefreshOnce, needLocker},
		{"Consume", testConsume, needConsumer},
		{"ConsumeRace", testConsumeRace, needConsumer},
		{"Namespaces", testNamespaces, needLocker | needConsumer},
		{"Canceled", testCanceled, 0},
		{"SharedLoad", testSharedLoad, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(newH(t))
			if h.Now == nil {
				h.Now = time.Now
			}
			if h.Advance == nil {
				h.Advance = time.Sleep
			}
			if name := h.missing(tt.needs); name != "" {
				if h.Full {
					t.Fatalf("the store does not implement %s", name)
				}
				t.Skipf("the store does not implement %s", name)
			}
			tt.run(t, h)
		})
	}
}

// newID returns a random ID, as the Manager makes them.
func newID() string { return rand.Text() }

func newRecord(h harness, user string, ttl time.Duration) store.Record {
	return store.Record{
		ID:       newID(),
		UserID:   user,
		ExpireAt: h.Now().Add(ttl),
		Data:     []byte("payload\x00\xff " + user),
	}
}

func save(t *testing.T, h harness, rec store.Record) uint64 {
	t.Helper()
	v, err := h.Store.Save(t.Context(), rec)
	if err != nil {
		t.Fatalf("Save(%s, version %d): got error %v, want none", rec.ID, rec.Version, err)
	}
	if want := rec.Version + 1; v != want {
		t.Fatalf("Save(%s, version %d): got version %d, want %d", rec.ID, rec.Version, v, want)
	}
	return v
}

func load(t *testing.T, h harness, id string) store.Record {
	t.Helper()
	rec, err := h.Store.Load(t.Context(), id)
	if err != nil {
		t.Fatalf("Load(%s): got error %v, want none", id, err)
	}
	return rec
}

func wantNotFound(t *testing.T, h harness, id string) {
	t.Helper()
	rec, err := h.Store.Load(t.Context(), id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load(%s): got (version %d, error %v), want ErrNotFound", id, rec.Version, err)
	}
}

// sameRecord reports how got differs from want, or "". ExpireAt may be
// rounded to a millisecond.
func sameRecord(got, want store.Record) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("ID: got %q, want %q", got.ID, want.ID)
	case got.UserID != want.UserID:
		return fmt.Sprintf("UserID: got %q, want %q", got.UserID, want.UserID)
	case !slices.Equal(sorted(got.OtherUserIDs), sorted(want.OtherUserIDs)):
		return fmt.Sprintf("OtherUserIDs: got %q, want %q", got.OtherUserIDs, want.OtherUserIDs)
	case !slices.Equal(sorted(got.ProviderSessionIDs), sorted(want.ProviderSessionIDs)):
		return fmt.Sprintf("ProviderSessionIDs: got %q, want %q", got.ProviderSessionIDs, want.ProviderSessionIDs)
	case got.Version != want.Version:
		return fmt.Sprintf("Version: got %d, want %d", got.Version, want.Version)
	case got.ExpireAt.Sub(want.ExpireAt).Abs() >= time.Millisecond:
		return fmt.Sprintf("ExpireAt: got %v, want %v", got.ExpireAt, want.ExpireAt)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("Data: got %q, want %q", got.Data, want.Data)
	}
	return ""
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func ids(recs []store.Record) []string {
	var s []string
	for _, r := range recs {
		s = append(s, r.ID)
	}
	slices.Sort(s)
	return s
}

func testCreateLoad(t *testing.T, h harness) {
	big := make([]byte, 64<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rec  store.Record
	}{
		{"plain", newRecord(h, "user-1", longTTL)},
		{"no data", store.Record{ID: newID(), UserID: "user-1", ExpireAt: h.Now().Add(longTTL)}},
		{"provider sessions", store.Record{ID: newID(), UserID: "user-1", ProviderSessionIDs: []string{"https://idp.example sid-1", "https://other.example sid-2"}, ExpireAt: h.Now().Add(longTTL), Data: []byte("x")}},
		{"64 KiB of random data", store.Record{ID: newID(), UserID: "user-1", ExpireAt: h.Now().Add(longTTL), Data: big}},
		{"odd user ID", store.Record{ID: newID(), UserID: "user:*?[a]\x00\xff é", ExpireAt: h.Now().Add(longTTL), Data: []byte("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := save(t, h, tt.rec); v != 1 {
				t.Fatalf("got version %d, want 1", v)
			}
			want := tt.rec
			want.Version = 1
			if diff := sameRecord(load(t, h, tt.rec.ID), want); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// testSharedLoad checks Load for a caller that only reads
// (store.SharedLoad): it returns what Load returns to any other
// caller, and a record it returned is never changed in place afterwards,
// not by a Save nor by a Delete.
func testSharedLoad(t *testing.T, h harness) {
	ctx := store.WithSharedLoad(t.Context(), h.Store)
	if _, err := h.Store.Load(ctx, newID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load of a missing record: got error %v, want ErrNotFound", err)
	}
	rec := newRecord(h, "u", longTTL)
	rec.OtherUserIDs = []string{"u2"}
	rec.ProviderSessionIDs = []string{"sid"}
	rec.Version = save(t, h, rec)
	got, err := h.Store.Load(ctx, rec.ID)
	if err != nil {
		t.Fatalf("Load: got error %v, want none", err)
	}
	if diff := sameRecord(got, load(t, h, rec.ID)); diff != "" {
		t.Fatalf("Load to a caller that only reads: %s", diff)
	}
	kept := got
	kept.Data, kept.OtherUserIDs, kept.ProviderSessionIDs = bytes.Clone(got.Data), slices.Clone(got.OtherUserIDs), slices.Clone(got.ProviderSessionIDs)
	next := rec
	next.Data = bytes.Repeat([]byte{'x'}, len(rec.Data))
	next.OtherUserIDs, next.ProviderSessionIDs = []string{"u3"}, []string{"sid2"}
	save(t, h, next)
	if err := h.Store.Delete(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
	if diff := sameRecord(got, kept); diff != "" {
		t.Fatalf("a record returned to a caller that only reads changed: %s", diff)
	}

	// Readers and a writer at once: under -race, a store that writes
	// into what it handed out is caught.
	cur := newRecord(h, "u", longTTL)
	cur.Version = save(t, h, cur)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				r, err := h.Store.Load(ctx, cur.ID)
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				_ = bytes.Count(r.Data, []byte{'x'}) // reads every byte
			}
		})
	}
	for range 50 {
		cur.Data = bytes.Repeat([]byte{'x'}, 64)
		v, err := h.Store.Save(t.Context(), cur)
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		cur.Version = v
	}
	wg.Wait()
}

func testUpdate(t *testing.T, h harness) {
	ctx := t.Context()
	rec := newRecord(h, "user-1", longTTL)
	rec.Version = save(t, h, rec)

	rec.Data = []byte("second")
	rec.ProviderSessionIDs = []string{"sid-a"}
	rec.ExpireAt = h.Now().Add(2 * longTTL)
	rec.Version = save(t, h, rec)
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Error(diff)
	}

	stale := rec
	stale.Version = 1
	stale.Data = []byte("stale")
	if _, err := h.Store.Save(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Save with stale version: got error %v, want ErrConflict", err)
	}
	ahead := rec
	ahead.Version = rec.Version + 5
	if _, err := h.Store.Save(ctx, ahead); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Save with a version from the future: got error %v, want ErrConflict", err)
	}
	again := rec
	again.Version = 0
	if _, err := h.Store.Save(ctx, again); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Save creating an existing ID: got error %v, want ErrConflict", err)
	}
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Errorf("after refused saves: %s", diff)
	}
}

func testDelete(t *testing.T, h harness) {
	ctx := t.Context()
	rec := newRecord(h, "user-1", longTTL)
	rec.ProviderSessionIDs = []string{"sid-del"}
	rec.Version = save(t, h, rec)
	if err := h.Store.Delete(ctx, rec.ID); err != nil {
		t.Fatalf("Delete: got error %v, want none", err)
	}
	wantNotFound(t, h, rec.ID)
	if err := h.Store.Delete(ctx, rec.ID); err != nil {
		t.Errorf("Delete again: got error %v, want none", err)
	}
	if _, err := h.Store.Save(ctx, rec); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Save updating a deleted record: got error %v, want ErrNotFound", err)
	}
	if h.users != nil {
		if got, err := h.users.ListByUser(ctx, rec.UserID); err != nil || len(got) != 0 {
			t.Errorf("ListByUser after Delete: got (%q, %v), want none", ids(got), err)
		}
	}
	if h.psids != nil {
		if got, err := h.psids.ListByProviderSession(ctx, "sid-del"); err != nil || len(got) != 0 {
			t.Errorf("ListByProviderSession after Delete: got (%q, %v), want none", ids(got), err)
		}
	}
	rec.Version = 0
	if v := save(t, h, rec); v != 1 {
		t.Errorf("re-created after Delete: got version %d, want 1", v)
	}
}

func testNotFound(t *testing.T, h harness) {
	ctx := t.Context()
	for _, id := range []string{newID(), ""} {
		wantNotFound(t, h, id)
	}
	rec := newRecord(h, "user-1", longTTL)
	rec.Version = 3
	if _, err := h.Store.Save(ctx, rec); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Save updating a record never created: got error %v, want ErrNotFound", err)
	}
	wantNotFound(t, h, rec.ID)
	for _, user := range []string{"nobody", ""} {
		if h.users != nil {
			if got, err := h.users.ListByUser(ctx, user); err != nil || len(got) != 0 {
				t.Errorf("ListByUser(%q): got (%q, %v), want none", user, ids(got), err)
			}
		}
		if h.psids != nil {
			if got, err := h.psids.ListByProviderSession(ctx, user); err != nil || len(got) != 0 {
				t.Errorf("ListByProviderSession(%q): got (%q, %v), want none", user, ids(got), err)
			}
		}
	}
}

func testInvalid(t *testing.T, h harness) {
	ctx := t.Context()
	valid := func() store.Record { return newRecord(h, "user-1", longTTL) }
	tests := []struct {
		name   string
		change func(r *store.Record)
	}{
		{"empty ID", func(r *store.Record) { r.ID = "" }},
		{"empty UserID", func(r *store.Record) { r.UserID = "" }},
		{"zero ExpireAt", func(r *store.Record) { r.ExpireAt = time.Time{} }},
		{"empty provider session ID", func(r *store.Record) { r.ProviderSessionIDs = []string{"sid", ""} }},
		{"NUL in provider session ID", func(r *store.Record) { r.ProviderSessionIDs = []string{"s\x00id"} }},
		{"empty other user ID", func(r *store.Record) { r.OtherUserIDs = []string{"u2", ""} }},
		{"NUL in other user ID", func(r *store.Record) { r.OtherUserIDs = []string{"u\x002"} }},
		{"other user ID repeated", func(r *store.Record) { r.OtherUserIDs = []string{"u2", "u2"} }},
		{"other user ID is UserID", func(r *store.Record) { r.OtherUserIDs = []string{r.UserID} }},
	}
	for _, tt := range tests {
		t.Run("Save/"+tt.name, func(t *testing.T) {
			rec := valid()
			tt.change(&rec)
			_, err := h.Store.Save(ctx, rec)
			if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				t.Fatalf("got error %v, want a system error", err)
			}
			if rec.ID != "" {
				wantNotFound(t, h, rec.ID)
			}
		})
	}
	args := []struct {
		name string
		key  string
		ttl  time.Duration
	}{
		{"empty key", "", time.Second},
		{"zero ttl", "k", 0},
		{"negative ttl", "k", -time.Second},
	}
	for _, tt := range args {
		t.Run("Lock/"+tt.name, func(t *testing.T) {
			if h.locker == nil {
				t.Skip("the store does not implement store.Locker")
			}
			if unlock, err := h.locker.Lock(ctx, tt.key, tt.ttl); err == nil || errors.Is(err, store.ErrLocked) {
				if unlock != nil {
					_ = unlock(ctx)
				}
				t.Fatalf("got error %v, want a system error", err)
			}
		})
		t.Run("Consume/"+tt.name, func(t *testing.T) {
			if h.consumer == nil {
				t.Skip("the store does not implement store.Consumer")
			}
			if first, err := h.consumer.Consume(ctx, tt.key, tt.ttl); err == nil || first {
				t.Fatalf("got (%v, %v), want (false, an error)", first, err)
			}
		})
	}
}

func testOwnership(t *testing.T, h harness) {
	rec := newRecord(h, "user-1", longTTL)
	rec.ProviderSessionIDs = []string{"sid-1"}
	want := rec
	want.Data = bytes.Clone(rec.Data)
	want.ProviderSessionIDs = slices.Clone(rec.ProviderSessionIDs)
	want.Version = save(t, h, rec)

	rec.Data[0] = 'X'
	rec.ProviderSessionIDs[0] = "changed"
	got := load(t, h, rec.ID)
	if diff := sameRecord(got, want); diff != "" {
		t.Fatalf("after changing the saved Record: %s", diff)
	}
	got.Data[0] = 'Y'
	got.ProviderSessionIDs[0] = "changed"
	if diff := sameRecord(load(t, h, rec.ID), want); diff != "" {
		t.Fatalf("after changing a loaded Record: %s", diff)
	}
	if h.users == nil {
		return
	}
	list, err := h.users.ListByUser(t.Context(), "user-1")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListByUser: got (%q, %v), want one record", ids(list), err)
	}
	list[0].Data[0] = 'Z'
	if diff := sameRecord(load(t, h, rec.ID), want); diff != "" {
		t.Fatalf("after changing a listed Record: %s", diff)
	}
}

func testExpiry(t *testing.T, h harness) {
	ctx := t.Context()
	rec := newRecord(h, "user-exp", shortTTL)
	rec.ProviderSessionIDs = []string{"sid-exp"}
	rec.Version = save(t, h, rec)
	keep := newRecord(h, "user-exp", longTTL)
	save(t, h, keep)
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Fatalf("before expiry: %s", diff)
	}

	h.Advance(pastTTL)
	wantNotFound(t, h, rec.ID)
	load(t, h, keep.ID)
	if h.users != nil {
		if got, err := h.users.ListByUser(ctx, "user-exp"); err != nil || !slices.Equal(ids(got), []string{keep.ID}) {
			t.Errorf("ListByUser: got (%q, %v), want [%s]", ids(got), err, keep.ID)
		}
	}
	if h.psids != nil {
		if got, err := h.psids.ListByProviderSession(ctx, "sid-exp"); err != nil || len(got) != 0 {
			t.Errorf("ListByProviderSession: got (%q, %v), want none", ids(got), err)
		}
	}
	if _, err := h.Store.Save(ctx, rec); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Save updating an expired record: got error %v, want ErrNotFound", err)
	}
	rec.Version = 0
	rec.ExpireAt = h.Now().Add(longTTL)
	if v := save(t, h, rec); v != 1 {
		t.Errorf("re-created after expiry: got version %d, want 1", v)
	}
}

func testExtendExpiry(t *testing.T, h harness) {
	rec := newRecord(h, "user-ext", shortTTL)
	rec.ProviderSessionIDs = []string{"sid-ext"}
	rec.Version = save(t, h, rec)
	rec.ExpireAt = h.Now().Add(longTTL)
	rec.Version = save(t, h, rec)

	h.Advance(pastTTL)
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Fatalf("after the first ExpireAt: %s", diff)
	}
	if h.users != nil {
		if got, err := h.users.ListByUser(t.Context(), "user-ext"); err != nil || !slices.Equal(ids(got), []string{rec.ID}) {
			t.Errorf("ListByUser: got (%q, %v), want [%s]", ids(got), err, rec.ID)
		}
	}
	if h.psids != nil {
		if got, err := h.psids.ListByProviderSession(t.Context(), "sid-ext"); err != nil || !slices.Equal(ids(got), []string{rec.ID}) {
			t.Errorf("ListByProviderSession: got (%q, %v), want [%s]", ids(got), err, rec.ID)
		}
	}
}

func testSaveExpired(t *testing.T, h harness) {
	ctx := t.Context()
	created := newRecord(h, "user-past", -time.Second)
	if _, err := h.Store.Save(ctx, created); err != nil {
		t.Errorf("creating an expired record: got error %v, want none", err)
	}
	wantNotFound(t, h, created.ID)

	rec := newRecord(h, "user-past", longTTL)
	rec.ProviderSessionIDs = []string{"sid-past"}
	rec.Version = save(t, h, rec)
	rec.ExpireAt = h.Now().Add(-time.Second)
	save(t, h, rec)
	wantNotFound(t, h, rec.ID)
	if h.users != nil {
		if got, err := h.users.ListByUser(ctx, "user-past"); err != nil || len(got) != 0 {
			t.Errorf("ListByUser: got (%q, %v), want none", ids(got), err)
		}
	}
	if h.psids != nil {
		if got, err := h.psids.ListByProviderSession(ctx, "sid-past"); err != nil || len(got) != 0 {
			t.Errorf("ListByProviderSession: got (%q, %v), want none", ids(got), err)
		}
	}
}

// listByUser returns the IDs ListByUser lists for user, checking that each
// listed record is the one stored.
func listByUser(t *testing.T, h harness, user string) []string {
	t.Helper()
	got, err := h.users.ListByUser(t.Context(), user)
	if err != nil {
		t.Fatalf("ListByUser(%s): got error %v, want none", user, err)
	}
	for _, r := range got {
		if diff := sameRecord(r, load(t, h, r.ID)); diff != "" {
			t.Errorf("ListByUser(%s): record %s: %s", user, r.ID, diff)
		}
	}
	return ids(got)
}

func testListByUser(t *testing.T, h harness) {
	ctx := t.Context()
	a1 := newRecord(h, "alice", longTTL)
	a2 := newRecord(h, "alice", longTTL)
	b1 := newRecord(h, "bob", longTTL)
	c1 := newRecord(h, "carol", longTTL) // signed in to alice's account too
	c1.OtherUserIDs = []string{"alice"}
	for _, r := range []*store.Record{&a1, &a2, &b1, &c1} {
		r.Version = save(t, h, *r)
	}
	list := func(user string) []string {
		t.Helper()
		return listByUser(t, h, user)
	}
	tests := []struct {
		name       string
		change     func()
		alice, bob []string
	}{
		{"saved", func() {}, ids([]store.Record{a1, a2, c1}), []string{b1.ID}},
		{"moved to another user", func() {
			a2.UserID = "bob"
			a2.Version = save(t, h, a2)
		}, ids([]store.Record{a1, c1}), ids([]store.Record{a2, b1})},
		{"other users replaced", func() {
			c1.OtherUserIDs = []string{"bob", "dave"}
			c1.Version = save(t, h, c1)
		}, []string{a1.ID}, ids([]store.Record{a2, b1, c1})},
		{"active user swapped with another", func() {
			c1.UserID, c1.OtherUserIDs = "alice", []string{"carol"}
			c1.Version = save(t, h, c1)
		}, ids([]store.Record{a1, c1}), ids([]store.Record{a2, b1})},
		{"deleted", func() {
			for _, id := range []string{b1.ID, c1.ID} {
				if err := h.Store.Delete(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{a1.ID}, []string{a2.ID}},
	}
	for _, tt := range tests {
		tt.change()
		if got := list("alice"); !slices.Equal(got, tt.alice) {
			t.Errorf("%s: alice: got %q, want %q", tt.name, got, tt.alice)
		}
		if got := list("bob"); !slices.Equal(got, tt.bob) {
			t.Errorf("%s: bob: got %q, want %q", tt.name, got, tt.bob)
		}
	}
	// Carol's and dave's entries went with the record and the update.
	for _, u := range []string{"carol", "dave"} {
		if got := list(u); len(got) != 0 {
			t.Errorf("%s: got %q, want none", u, got)
		}
	}
}

func testListByProviderSession(t *testing.T, h harness) {
	ctx := t.Context()
	r1 := newRecord(h, "alice", longTTL)
	r1.ProviderSessionIDs = []string{"iss sid-1", "iss sid-2"}
	r2 := newRecord(h, "bob", longTTL)
	r2.ProviderSessionIDs = []string{"iss sid-2"}
	for _, r := range []*store.Record{&r1, &r2} {
		r.Version = save(t, h, *r)
	}
	list := func(sid string) []string {
		t.Helper()
		got, err := h.psids.ListByProviderSession(ctx, sid)
		if err != nil {
			t.Fatalf("ListByProviderSession(%s): got error %v, want none", sid, err)
		}
		for _, r := range got {
			if diff := sameRecord(r, load(t, h, r.ID)); diff != "" {
				t.Errorf("ListByProviderSession(%s): record %s: %s", sid, r.ID, diff)
			}
		}
		return ids(got)
	}
	tests := []struct {
		name             string
		change           func()
		sid1, sid2, sid3 []string
	}{
		{"saved", func() {}, []string{r1.ID}, ids([]store.Record{r1, r2}), nil},
		{"replaced", func() {
			r1.ProviderSessionIDs = []string{"iss sid-3"}
			r1.Version = save(t, h, r1)
		}, nil, []string{r2.ID}, []string{r1.ID}},
		{"removed", func() {
			r2.ProviderSessionIDs = nil
			r2.Version = save(t, h, r2)
		}, nil, nil, []string{r1.ID}},
		{"deleted", func() {
			if err := h.Store.Delete(ctx, r1.ID); err != nil {
				t.Fatal(err)
			}
		}, nil, nil, nil},
	}
	for _, tt := range tests {
		tt.change()
		for _, c := range []struct {
			sid  string
			want []string
		}{{"iss sid-1", tt.sid1}, {"iss sid-2", tt.sid2}, {"iss sid-3", tt.sid3}} {
			if got := list(c.sid); !slices.Equal(got, c.want) {
				t.Errorf("%s: %s: got %q, want %q", tt.name, c.sid, got, c.want)
			}
		}
	}
}

// race runs f on n goroutines released at once and waits for them all.
func race(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			f(i)
		})
	}
	start.Done()
	done.Wait()
}

const racers = 16

func testConflictRace(t *testing.T, h harness) {
	rec := newRecord(h, "user-1", longTTL)
	rec.Version = save(t, h, rec)
	var wins atomic.Int32
	var winner atomic.Value
	var unexpected atomic.Value
	race(racers, func(i int) {
		r := rec
		r.Data = fmt.Appendf(nil, "writer %d", i)
		switch _, err := h.Store.Save(t.Context(), r); {
		case err == nil:
			wins.Add(1)
			winner.Store(r.Data)
		case !errors.Is(err, store.ErrConflict):
			unexpected.Store(err)
		}
	})
	if err := unexpected.Load(); err != nil {
		t.Fatalf("a losing Save: got error %v, want ErrConflict", err)
	}
	if got := wins.Load(); got != 1 {
		t.Fatalf("%d concurrent Saves of version %d: got %d winners, want 1", racers, rec.Version, got)
	}
	got := load(t, h, rec.ID)
	if want := rec.Version + 1; got.Version != want {
		t.Errorf("got version %d, want %d", got.Version, want)
	}
	if want := winner.Load().([]byte); !bytes.Equal(got.Data, want) {
		t.Errorf("got data %q, want the winner's %q", got.Data, want)
	}
}

func testCreateRace(t *testing.T, h harness) {
	id := newID()
	var wins atomic.Int32
	var unexpected atomic.Value
	race(racers, func(i int) {
		r := newRecord(h, fmt.Sprintf("user-%d", i), longTTL)
		r.ID = id
		switch _, err := h.Store.Save(t.Context(), r); {
		case err == nil:
			wins.Add(1)
		case !errors.Is(err, store.ErrConflict):
			unexpected.Store(err)
		}
	})
	if err := unexpected.Load(); err != nil {
		t.Fatalf("a losing Save: got error %v, want ErrConflict", err)
	}
	if got := wins.Load(); got != 1 {
		t.Fatalf("%d concurrent creations of one ID: got %d winners, want 1", racers, got)
	}
	rec := load(t, h, id)
	if h.users != nil {
		if got, err := h.users.ListByUser(t.Context(), rec.UserID); err != nil || !slices.Equal(ids(got), []string{id}) {
			t.Errorf("ListByUser(winner): got (%q, %v), want [%s]", ids(got), err, id)
		}
	}
}

func lock(t *testing.T, h harness, key string, ttl time.Duration) func(context.Context) error {
	t.Helper()
	unlock, err := h.locker.Lock(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("Lock(%s): got error %v, want none", key, err)
	}
	if unlock == nil {
		t.Fatalf("Lock(%s): got a nil unlock func", key)
	}
	return unlock
}

func wantLocked(t *testing.T, h harness, key string) {
	t.Helper()
	unlock, err := h.locker.Lock(t.Context(), key, longTTL)
	if !errors.Is(err, store.ErrLocked) {
		if err == nil {
			_ = unlock(t.Context())
		}
		t.Fatalf("Lock(%s) while held: got error %v, want ErrLocked", key, err)
	}
}

func testLock(t *testing.T, h harness) {
	ctx := t.Context()
	key := "refresh:" + newID()
	unlock := lock(t, h, key, longTTL)
	wantLocked(t, h, key)
	lock(t, h, key+"-other", longTTL) // another key is free
	if err := unlock(ctx); err != nil {
		t.Fatalf("unlock: got error %v, want none", err)
	}
	again := lock(t, h, key, longTTL)
	if err := unlock(ctx); err != nil {
		t.Errorf("unlock a second time: got error %v, want none", err)
	}
	wantLocked(t, h, key) // the first unlock, called again, left the new holder alone
	if err := again(ctx); err != nil {
		t.Errorf("unlock: got error %v, want none", err)
	}
}

// testLockContention has racers goroutines take the lock in turn; no two
// may hold it at once, and all get it in the end.
func testLockContention(t *testing.T, h harness) {
	const rounds = 5
	key := "refresh:" + newID()
	var holders, acquired, overlaps atomic.Int32
	var unexpected atomic.Value
	race(racers, func(int) {
		for got := 0; got < rounds; {
			unlock, err := h.locker.Lock(t.Context(), key, longTTL)
			if errors.Is(err, store.ErrLocked) {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				unexpected.Store(err)
				return
			}
			if holders.Add(1) > 1 {
				overlaps.Add(1)
			}
			acquired.Add(1)
			time.Sleep(100 * time.Microsecond)
			holders.Add(-1)
			if err := unlock(t.Context()); err != nil {
				unexpected.Store(err)
				return
			}
			got++
		}
	})
	if err := unexpected.Load(); err != nil {
		t.Fatalf("got error %v, want only ErrLocked", err)
	}
	if got := overlaps.Load(); got != 0 {
		t.Errorf("got %d acquisitions while another goroutine held the lock, want 0", got)
	}
	if got, want := acquired.Load(), int32(racers*rounds); got != want {
		t.Errorf("got %d acquisitions, want %d", got, want)
	}

	var wins atomic.Int32
	race(racers, func(int) {
		if _, err := h.locker.Lock(t.Context(), key+"-once", longTTL); err == nil {
			wins.Add(1)
		}
	})
	if got := wins.Load(); got != 1 {
		t.Errorf("%d simultaneous Locks: got %d holders, want 1", racers, got)
	}
}

func testLockExpiry(t *testing.T, h harness) {
	ctx := t.Context()
	key := "refresh:" + newID()
	dead := lock(t, h, key, shortTTL) // its holder never unlocks
	wantLocked(t, h, key)
	h.Advance(pastTTL)

	unlock := lock(t, h, key, longTTL)
	if err := dead(ctx); err != nil {
		t.Fatalf("unlock by the expired holder: got error %v, want none", err)
	}
	wantLocked(t, h, key)
	if err := unlock(ctx); err != nil {
		t.Fatalf("unlock: got error %v, want none", err)
	}
	lock(t, h, key, longTTL)
}

// testRefreshOnce is the protocol the Manager follows to refresh a session
// once across instances: racers "instances" find the session due at once;
// the one that gets the lock refreshes, the others wait for its record.
func testRefreshOnce(t *testing.T, h harness) {
	rec := newRecord(h, "user-1", longTTL)
	rec.Data = []byte("old tokens")
	rec.Version = save(t, h, rec)
	var refreshes atomic.Int32
	seen := make([][]byte, racers)
	errs := make([]error, racers)
	race(racers, func(i int) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		seen[i], errs[i] = refresh(ctx, h.Store, h.locker, rec, func() { refreshes.Add(1) })
	})
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("instance %d: got error %v, want none", i, errs[i])
		}
		if want := "new tokens"; string(seen[i]) != want {
			t.Errorf("instance %d: got %q, want %q", i, seen[i], want)
		}
	}
	if got := refreshes.Load(); got != 1 {
		t.Errorf("got %d refreshes, want 1", got)
	}
}

// refresh refreshes rec (as read before) once across instances and returns
// the refreshed Data. The holder of the lock refreshes unless it finds the
// record already refreshed; the others poll Load until it is, retrying the
// lock as they go, so that they take over if the holder dies.
func refresh(ctx context.Context, s store.Store, l store.Locker, rec store.Record, call func()) ([]byte, error) {
	key := "refresh:" + rec.ID
	for {
		unlock, err := l.Lock(ctx, key, 5*time.Second)
		if err != nil && !errors.Is(err, store.ErrLocked) {
			return nil, err
		}
		cur, lerr := s.Load(ctx, rec.ID)
		if lerr != nil || cur.Version != rec.Version {
			if unlock != nil {
				_ = unlock(context.WithoutCancel(ctx))
			}
			return cur.Data, lerr
		}
		if unlock != nil {
			defer unlock(context.WithoutCancel(ctx))
			call()
			cur.Data = []byte("new tokens")
			if _, err := s.Save(ctx, cur); err != nil {
				return nil, err
			}
			return cur.Data, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func testConsume(t *testing.T, h harness) {
	ctx := t.Context()
	key := "jti:" + newID()
	tests := []struct {
		name    string
		advance time.Duration
		want    bool
	}{
		{"first", 0, true},
		{"replayed", 0, false},
		{"replayed again", 0, false},
		{"after ttl", pastTTL, true},
		{"replayed after ttl", 0, false},
	}
	for _, tt := range tests {
		h.Advance(tt.advance)
		first, err := h.consumer.Consume(ctx, key, shortTTL)
		if err != nil || first != tt.want {
			t.Errorf("%s: got (%v, %v), want (%v, nil)", tt.name, first, err, tt.want)
		}
	}
}

func testConsumeRace(t *testing.T, h harness) {
	key := "jti:" + newID()
	var firsts atomic.Int32
	var unexpected atomic.Value
	race(racers, func(int) {
		first, err := h.consumer.Consume(t.Context(), key, longTTL)
		if err != nil {
			unexpected.Store(err)
		}
		if first {
			firsts.Add(1)
		}
	})
	if err := unexpected.Load(); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if got := firsts.Load(); got != 1 {
		t.Errorf("%d concurrent Consumes: got %d firsts, want 1", racers, got)
	}
}

func testNamespaces(t *testing.T, h harness) {
	ctx := t.Context()
	rec := newRecord(h, "user-1", longTTL)
	rec.Version = save(t, h, rec)
	lock(t, h, rec.ID, longTTL)
	if first, err := h.consumer.Consume(ctx, rec.ID, longTTL); err != nil || !first {
		t.Errorf("Consume(a locked key that is also a session ID): got (%v, %v), want (true, nil)", first, err)
	}
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Errorf("the session: %s", diff)
	}
	key := newID()
	if first, err := h.consumer.Consume(ctx, key, longTTL); err != nil || !first {
		t.Fatalf("Consume: got (%v, %v), want (true, nil)", first, err)
	}
	lock(t, h, key, longTTL)
	wantNotFound(t, h, key)
}

func testCanceled(t *testing.T, h harness) {
	rec := newRecord(h, "user-1", longTTL)
	rec.Version = save(t, h, rec)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	type call struct {
		name string
		call func() error
	}
	calls := []call{
		{"Load", func() error { _, err := h.Store.Load(ctx, rec.ID); return err }},
		{"Save", func() error { _, err := h.Store.Save(ctx, rec); return err }},
		{"Delete", func() error { return h.Store.Delete(ctx, rec.ID) }},
	}
	if h.users != nil {
		calls = append(calls, call{"ListByUser", func() error { _, err := h.users.ListByUser(ctx, rec.UserID); return err }})
	}
	if h.psids != nil {
		calls = append(calls, call{"ListByProviderSession", func() error { _, err := h.psids.ListByProviderSession(ctx, "sid"); return err }})
	}
	if h.locker != nil {
		calls = append(calls, call{"Lock", func() error { _, err := h.locker.Lock(ctx, rec.ID, longTTL); return err }})
	}
	if h.consumer != nil {
		calls = append(calls, call{"Consume", func() error { _, err := h.consumer.Consume(ctx, rec.ID, longTTL); return err }})
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("got error %v, want context.Canceled", err)
			}
		})
	}
	// Nothing was done.
	if diff := sameRecord(load(t, h, rec.ID), rec); diff != "" {
		t.Errorf("after the canceled calls: %s", diff)
	}
	if h.locker != nil {
		lock(t, h, rec.ID, longTTL)
	}
	if h.consumer != nil {
		if first, err := h.consumer.Consume(t.Context(), rec.ID, longTTL); err != nil || !first {
			t.Errorf("Consume after a canceled Consume: got (%v, %v), want (true, nil)", first, err)
		}
	}
}
