package record

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// oneRecord is a Store of one record whose Save may fail after, or
// before, writing.
type oneRecord struct {
	rec      store.Record
	saveErr  error
	landsToo bool // the failed Save wrote all the same
}

func (o *oneRecord) Load(_ context.Context, id string) (store.Record, error) {
	if id != o.rec.ID {
		return store.Record{}, store.ErrNotFound
	}
	return o.rec, nil
}

func (o *oneRecord) Save(_ context.Context, rec store.Record) (uint64, error) {
	if o.saveErr == nil || o.landsToo {
		o.rec = rec
	}
	return rec.Version + 1, o.saveErr
}

func (o *oneRecord) Delete(context.Context, string) error { return nil }

func TestWriteStub(t *testing.T) {
	lost := errors.New("connection reset")
	tests := []struct {
		name     string
		saveErr  error
		landsToo bool
		wantErr  error
	}{
		{name: "written"},
		{name: "reply lost, landed", saveErr: lost, landsToo: true},
		{name: "failed", saveErr: lost, wantErr: lost},
		{name: "conflict is not read back", saveErr: store.ErrConflict, landsToo: true, wantErr: store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &oneRecord{rec: store.Record{ID: "old", Data: []byte("session")}, saveErr: tt.saveErr, landsToo: tt.landsToo}
			mv := Moved{To: "new", Gen: 3, From: 2, MovedAt: time.Unix(1_800_000_000, 0)}
			err := WriteStub(context.Background(), s, store.Record{ID: "old", UserID: "u1", Version: 7}, mv)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				got, derr := DecodeMoved(s.rec.Data)
				if derr != nil || got.To != "new" || got.Gen != 3 || s.rec.UserID != "u1" || s.rec.Version != 7 {
					t.Fatalf("stored: got %+v (%+v, %v)", s.rec, got, derr)
				}
			}
		})
	}
}
