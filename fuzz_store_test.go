package sessionkit

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// addStoredSeeds adds records of every kind to f: sessions, a record of an
// unknown version, stubs of moved sessions, and broken stubs.
func addStoredSeeds(f *testing.F) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour),
		SignIn: SignIn{ID: "a", User: User{ID: "u"}, RefreshToken: "rt"}}
	f.Add(appendStored(nil, storeMeta{gen: 3, floor: 2, rotatedAt: t0, failures: 1}, s))
	v2 := appendStored(nil, storeMeta{gen: 1, floor: 1, psids: []ownedPSID{{"a", "iss sid"}}}, s)
	f.Add(v2)
	f.Add(append([]byte{1}, v2[1:]...))
	f.Add(appendMoved(nil, moved{to: "sess_2", gen: 4, from: 3, movedAt: t0.Add(time.Second)}))
	f.Add([]byte{storeMovedV1, 0})
	f.Add([]byte{storeMovedV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
}

// FuzzStoredRecord decodes arbitrary bytes as the Data of a stored Record
// (a session or a forwarding stub): never a panic, and whatever decodes
// re-encodes to the same.
func FuzzStoredRecord(f *testing.F) {
	addStoredSeeds(f)
	f.Fuzz(func(t *testing.T, p []byte) {
		got, st, err := fromRecord(store.Record{ID: "id", Data: p})
		var mv *errMoved
		switch {
		case errors.As(err, &mv):
			again, err := decodeMoved(appendMoved(nil, mv.moved))
			if err != nil || again != mv.moved {
				t.Fatalf("stub round trip: %+v, %v; want %+v", again, err, mv.moved)
			}
		case err != nil:
			if !errors.Is(err, ErrInvalidSession) {
				t.Fatalf("error %v does not wrap ErrInvalidSession", err)
			}
		default:
			again, st2, err := fromRecord(store.Record{ID: "id", Data: appendStored(nil, st.meta, got)})
			if err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if !reflect.DeepEqual(got, again) || !reflect.DeepEqual(st.meta, st2.meta) {
				t.Fatalf("round trip changed the record:\n%+v\n%+v", got, again)
			}
		}
	})
}

func TestDecodeMoved(t *testing.T) {
	good := moved{to: "sess_2", gen: 4, from: 3, movedAt: t0.Add(time.Second)}
	b := appendMoved(nil, good)
	if got, err := decodeMoved(b); err != nil || got != good {
		t.Fatalf("decodeMoved: %+v, %v", got, err)
	}
	for name, p := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{9}, b[1:]...),
		"trailing":   append(append([]byte{}, b...), 0),
		"short":      b[:len(b)-1],
		"empty ID":   appendMoved(nil, moved{gen: 1, from: 1}),
		"gen 0":      appendMoved(nil, moved{to: "x"}),
		"from 0":     appendMoved(nil, moved{to: "x", gen: 1}),
		"from > gen": appendMoved(nil, moved{to: "x", gen: 1, from: 2}),
	} {
		if _, err := decodeMoved(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// A stored record keeps the provider session IDs of its sign-ins, and
// drops those of the sign-ins that leave it; a record of another version
// is refused.
func TestStoredPSIDsFollowSignIns(t *testing.T) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour), activeAt: 1,
		SignIn: SignIn{ID: "b", User: User{ID: "v"}}, OtherSignIns: []SignIn{{ID: "a", User: User{ID: "u"}}}}
	data := appendStored(nil, storeMeta{gen: 2, floor: 1, psids: []ownedPSID{{"a", "iss sid"}}}, s)
	got, st, err := fromRecord(store.Record{ID: "sess_1", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if got.User.ID != "v" || st.meta.gen != 2 || !reflect.DeepEqual(st.meta.psids, []ownedPSID{{"a", "iss sid"}}) {
		t.Fatalf("got user %s, meta %+v", got.User.ID, st.meta)
	}
	if ids := st.meta.prunePSIDs(got); !reflect.DeepEqual(ids, []string{"iss sid"}) {
		t.Fatalf("prunePSIDs: %q", ids)
	}
	got.OtherSignIns = nil
	if ids := st.meta.prunePSIDs(got); ids != nil {
		t.Fatalf("prunePSIDs after the first sign-in left: %q", ids)
	}
	data[0] = 1
	if _, _, err := fromRecord(store.Record{ID: "sess_1", Data: data}); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("version 1: got %v, want ErrInvalidSession", err)
	}
}

// recordStore holds one record, shared with readers that only read: enough
// for the middleware's read (its other methods are not called).
type recordStore struct {
	store.Store
	rec store.Record
}

func (s *recordStore) Load(ctx context.Context, id string) (store.Record, error) {
	if id != s.rec.ID {
		return store.Record{}, store.ErrNotFound
	}
	r := s.rec
	if !store.SharedLoad(ctx, s) {
		r.Data = bytes.Clone(r.Data)
	}
	return r, nil
}

// The middleware's read of a stored record gives the same session and
// state whether it decodes the record or finds it in the cache, and
// nothing a request does to its copy reaches the next one.
func FuzzStoredReadCache(f *testing.F) {
	addStoredSeeds(f)
	f.Fuzz(func(t *testing.T, p []byte) {
		clk := newClock()
		cfg := testConfig(clk, "")
		backend := &recordStore{rec: store.Record{ID: "id", Version: 7, Data: p}}
		cfg.Store = backend
		m := mustNew(t, cfg)
		read := func() (*Session, *storeState, error) {
			s, st, err := m.stored.readRecord(context.Background(), "id")
			if s != nil {
				s.Status = statusAt(s, clk.Now())
			}
			return s, st, err
		}
		s1, st1, err1 := read()
		for range 2 {
			s2, st2, err2 := read()
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(st1, st2) {
				t.Fatalf("read again:\n%+v %+v %v\nfirst:\n%+v %+v %v", s2, st2, err2, s1, st1, err1)
			}
			if s2 != nil {
				s2.User.Name, s2.Status = "changed", StatusRevoked
				s2.SignIn.ID = "x"
			}
			if st2 != nil {
				st2.meta.psids = append(st2.meta.psids[:0], ownedPSID{"x", "y"})
			}
		}
	})
}
