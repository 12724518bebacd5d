package record

import (
	"encoding/binary"
	"time"

	"github.com/sessionkit/sessionkit/internal/wire"
)

// MovedVersion starts the Data of a forwarding stub, which a session leaves
// at its old ID when it moves to a new one:
//
//	MovedVersion, len(To), To, Gen, From, MovedAt (Unix ms)
const MovedVersion = 2

// MaxMoves bounds how many stubs a lookup follows.
const MaxMoves = 16

// StubLife is how long a forwarding stub is kept after the move: briefly,
// so that a client switching scope in a loop cannot fill a Store with them.
const StubLife = 2 * Grace

// Moved is a decoded forwarding stub.
type Moved struct {
	// To is the session's new ID.
	To string
	// Gen is the old record's generation when it moved.
	Gen uint64
	// From is the oldest generation whose cookie it still accepted then.
	From uint64
	// MovedAt is when the session moved.
	MovedAt time.Time
}

// IsMoved reports whether data is (or claims to be) a forwarding stub.
func IsMoved(data []byte) bool { return len(data) > 0 && data[0] == MovedVersion }

// AppendMoved appends the encoding of mv to b.
func AppendMoved(b []byte, mv Moved) []byte {
	b = wire.AppendString(append(b, MovedVersion), mv.To)
	b = binary.AppendUvarint(b, mv.Gen)
	b = binary.AppendUvarint(b, mv.From)
	return wire.AppendMilli(b, mv.MovedAt)
}

// DecodeMoved decodes a stub AppendMoved wrote, or returns
// wire.ErrMalformed.
func DecodeMoved(p []byte) (Moved, error) {
	if !IsMoved(p) {
		return Moved{}, wire.ErrMalformed
	}
	r := wire.NewReader(string(p[1:]))
	var mv Moved
	if mv.To = r.Str(); mv.To == "" || len(mv.To) > 256 {
		r.Fail()
	}
	mv.Gen = r.Uvarint()
	mv.From = r.Uvarint()
	mv.MovedAt = r.Milli()
	if !r.Done() || mv.Gen == 0 || mv.From == 0 || mv.From > mv.Gen {
		return Moved{}, wire.ErrMalformed
	}
	return mv, nil
}

// Copied reports whether a cookie of generation gen, issued for the record
// before it moved, is a copy now that the session it moved to has meta
// dest. A cookie the move left accepted (gen >= From) may be a request in
// flight within Grace of the move, or while the new cookie may not have
// reached its client: a client presents it, or advances its generation,
// once it has.
func (mv Moved) Copied(gen uint64, dest *Meta, now time.Time) bool {
	delivered := dest.Seen || dest.Gen > 1
	return gen < mv.From || (!now.Before(mv.MovedAt.Add(Grace)) && delivered)
}

// StubExpiry is when the stub of a session that moved at now, and whose
// record expires at end, expires: StubLife later, or at end if sooner.
func StubExpiry(end, now time.Time) time.Time {
	if end.Before(now.Add(StubLife)) {
		return end
	}
	return now.Add(StubLife)
}

// RefVersion starts the payload of a store-backed session cookie, which
// refers to the stored session instead of holding it. It is outside the
// range of session payload versions, so that a decoder of sessions refuses
// a reference.
const RefVersion = 0x80

// Ref is what a store-backed session cookie says: which session, and the
// generation it was issued at.
type Ref struct {
	// ID is the stored session's ID.
	ID string
	// Gen is the generation the cookie was issued at.
	Gen uint64
}

// AppendRef appends the cookie payload of ref to b.
func AppendRef(b []byte, ref Ref) []byte {
	b = append(b, RefVersion)
	b = wire.AppendString(b, ref.ID)
	return binary.AppendUvarint(b, ref.Gen)
}

// DecodeRef decodes a payload AppendRef wrote, or returns wire.ErrMalformed.
func DecodeRef(p []byte) (Ref, error) {
	if len(p) == 0 || p[0] != RefVersion {
		return Ref{}, wire.ErrMalformed
	}
	r := wire.NewReader(string(p[1:]))
	ref := Ref{ID: r.Str(), Gen: r.Uvarint()}
	if !r.Done() || ref.ID == "" || ref.Gen == 0 {
		return Ref{}, wire.ErrMalformed
	}
	return ref, nil
}
