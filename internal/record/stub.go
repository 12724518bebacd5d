package record

import (
	"context"
	"errors"

	"github.com/sessionkit/sessionkit/store"
)

// WriteStub turns the record rec names (rec.ID at rec.Version, with its
// UserID and ExpireAt) into a stub forwarding as mv says, compare-and-set.
// A write that failed other than by a conflict may have landed all the
// same (its reply lost): the record is read back, and a stub to mv.To
// there is success.
func WriteStub(ctx context.Context, s store.Store, rec store.Record, mv Moved) error {
	rec.Data = AppendMoved(nil, mv)
	_, err := s.Save(ctx, rec)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		if got, lerr := s.Load(ctx, rec.ID); lerr == nil && IsMoved(got.Data) {
			if landed, derr := DecodeMoved(got.Data); derr == nil && landed.To == mv.To {
				return nil
			}
		}
	}
	return err
}
