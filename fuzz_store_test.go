package sessionkit

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzStoredRecord decodes arbitrary bytes as the Data of a stored Record
// (a session or a forwarding stub): never a panic, and whatever decodes
// re-encodes to the same.
func FuzzStoredRecord(f *testing.F) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour), ActiveSignInID: "a",
		SignIns: []SignIn{{ID: "a", User: User{ID: "u"}, RefreshToken: "rt"}}}
	s.mirrorActive()
	f.Add(appendStored(nil, storeMeta{gen: 3, floor: 2, rotatedAt: t0, failures: 1}, s))
	v2 := appendStored(nil, storeMeta{gen: 1, floor: 1, psids: []ownedPSID{{"a", "iss sid"}}}, s)
	f.Add(v2)
	v1 := appendStored(nil, storeMeta{gen: 2}, s)
	v1[0], v1 = storeDataV1, append(v1[:5], v1[8:]...) // no flags, floor nor psid count
	f.Add(v1)
	f.Add(appendMoved(nil, moved{to: "sess_2", gen: 4, from: 3, movedAt: t0.Add(time.Second)}))
	f.Add([]byte{storeMovedV1, 0})
	f.Add([]byte{storeMovedV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		got, st, err := fromRecord(Record{ID: "id", Data: p})
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
			again, st2, err := fromRecord(Record{ID: "id", Data: appendStored(nil, st.meta, got)})
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

// A record of the first format keeps working: its provider session IDs,
// then the Record's, belong to the first sign-in.
func TestDecodeStoredV1(t *testing.T) {
	s := &Session{ID: "sess_1", CreatedAt: t0, AbandonAt: t0.Add(time.Hour), ActiveSignInID: "b",
		SignIns: []SignIn{{ID: "a", User: User{ID: "u"}}, {ID: "b", User: User{ID: "v"}}}}
	s.mirrorActive()
	v1 := appendStored(nil, storeMeta{gen: 2}, s)
	v1[0], v1 = storeDataV1, append(v1[:5], v1[8:]...) // no flags, floor nor psid count
	got, st, err := fromRecord(Record{ID: "sess_1", Data: v1, ProviderSessionIDs: []string{"iss sid"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.User.ID != "v" || st.meta.gen != 2 || !reflect.DeepEqual(st.meta.psids, []ownedPSID{{"a", "iss sid"}}) {
		t.Fatalf("got user %s, meta %+v", got.User.ID, st.meta)
	}
	if ids := st.meta.prunePSIDs(got); !reflect.DeepEqual(ids, []string{"iss sid"}) {
		t.Fatalf("prunePSIDs: %q", ids)
	}
	got.SignIns = got.SignIns[1:]
	if ids := st.meta.prunePSIDs(got); ids != nil {
		t.Fatalf("prunePSIDs after the first sign-in left: %q", ids)
	}
}
