package sessionkit

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// addStoredSeeds adds records of every kind to f: sessions, a record of an
// unknown version, stubs of moved sessions, and broken stubs.
func addStoredSeeds(f *testing.F) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour),
		SignIn: SignIn{ID: "a", User: User{ID: "u"}, RefreshToken: "rt"}}
	f.Add(appendStored(nil, storeMeta{Gen: 3, Floor: 2, RotatedAt: t0, Failures: 1}, s))
	v2 := appendStored(nil, storeMeta{Gen: 1, Floor: 1, PSIDs: []ownedPSID{{SignIn: "a", ID: "iss sid"}}}, s)
	f.Add(v2)
	f.Add(append([]byte{1}, v2[1:]...))
	f.Add(record.AppendMoved(nil, record.Moved{To: "sess_2", Gen: 4, From: 3, MovedAt: t0.Add(time.Second)}))
	f.Add([]byte{record.MovedVersion, 0})
	f.Add([]byte{record.MovedVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
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
			again, err := record.DecodeMoved(record.AppendMoved(nil, mv.Moved))
			if err != nil || again != mv.Moved {
				t.Fatalf("stub round trip: %+v, %v; want %+v", again, err, mv.Moved)
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

// A stored record keeps the provider session IDs of its sign-ins, and
// drops those of the sign-ins that leave it; a record of another version
// is refused.
func TestStoredPSIDsFollowSignIns(t *testing.T) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour), activeAt: 1,
		SignIn: SignIn{ID: "b", User: User{ID: "v"}}, OtherSignIns: []SignIn{{ID: "a", User: User{ID: "u"}}}}
	data := appendStored(nil, storeMeta{Gen: 2, Floor: 1, PSIDs: []ownedPSID{{SignIn: "a", ID: "iss sid"}}}, s)
	got, st, err := fromRecord(store.Record{ID: "sess_1", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if got.User.ID != "v" || st.meta.Gen != 2 || !reflect.DeepEqual(st.meta.PSIDs, []ownedPSID{{SignIn: "a", ID: "iss sid"}}) {
		t.Fatalf("got user %s, meta %+v", got.User.ID, st.meta)
	}
	if ids := st.meta.PrunePSIDs(got.hasSignIn); !reflect.DeepEqual(ids, []string{"iss sid"}) {
		t.Fatalf("PrunePSIDs: %q", ids)
	}
	got.OtherSignIns = nil
	if ids := st.meta.PrunePSIDs(got.hasSignIn); ids != nil {
		t.Fatalf("PrunePSIDs after the first sign-in left: %q", ids)
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
				st2.meta.PSIDs = append(st2.meta.PSIDs[:0], ownedPSID{SignIn: "x", ID: "y"})
			}
		}
	})
}
