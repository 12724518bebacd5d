package sessionkit

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/sessionkit/sessionkit/internal/wire"
)

// Session IDs rotate when a session's privileges change, so that an ID
// learned before the change (planted by an attacker, or leaked from a log)
// is worth nothing after it. A privilege change is any change of who the
// session acts as or in which scope: the active sign-in or its user, the
// set of accounts signed in, the actor of an impersonation, the active
// organization or workspace.
//
// Without a Store the ID lives in the cookie, which is sealed anew. With a
// Store the session is saved under the new ID, and the record of the old ID
// becomes a forwarding stub (storeMovedV1) for stubLife. The old cookie
// never reaches the new session: whoever planted it would gain the new
// privileges (fixation). Within theftGrace of the move (a request in
// flight while it happened), or while the new cookie has not reached its
// client, the old cookie has no session; later it is a copy, as a cookie
// of an old generation is: the session it leads to is revoked. Once the stub
// is gone, the old cookie finds no session. Stubs live briefly so that a
// client switching scope in a loop cannot fill the Store with them.

// storeMovedV1 starts the Data of a forwarding stub:
//
//	storeMovedV1, len(to), to, gen, from, movedAt (Unix ms)
//
// gen is the old record's generation when it moved, and from the oldest
// generation whose cookie it still accepted then (storeMeta.acceptedFrom).
const storeMovedV1 = 2

const (
	// maxMoves bounds how many stubs a lookup follows.
	maxMoves = 16
	// stubLife is how long a forwarding stub is kept after the move.
	stubLife = 2 * theftGrace
)

// moved is a decoded forwarding stub.
type moved struct {
	to      string
	gen     uint64
	from    uint64
	movedAt time.Time
}

// errMoved is what fromRecord returns for a forwarding stub.
type errMoved struct{ moved }

func (e *errMoved) Error() string { return "sessionkit: stored session moved to a new ID" }

func appendMoved(b []byte, mv moved) []byte {
	b = wire.AppendString(append(b, storeMovedV1), mv.to)
	b = binary.AppendUvarint(b, mv.gen)
	b = binary.AppendUvarint(b, mv.from)
	return wire.AppendMilli(b, mv.movedAt)
}

func decodeMoved(p []byte) (moved, error) {
	if len(p) == 0 || p[0] != storeMovedV1 {
		return moved{}, errMalformedPayload
	}
	r := wire.NewReader(string(p[1:]))
	var mv moved
	if mv.to = r.Str(); mv.to == "" || len(mv.to) > 256 {
		r.Fail()
	}
	mv.gen = r.Uvarint()
	mv.from = r.Uvarint()
	mv.movedAt = r.Milli()
	if !r.Done() || mv.gen == 0 || mv.from == 0 || mv.from > mv.gen {
		return moved{}, errMalformedPayload
	}
	return mv, nil
}

// newSessionID returns a fresh random session ID.
func newSessionID() string { return "sess_" + rand.Text() }

// privilegeChanged reports whether b acts as someone else than a, or in
// another scope: then its session ID must change.
func privilegeChanged(a, b *Session) bool {
	if len(a.OtherSignIns) != len(b.OtherSignIns) || !samePrivileges(&a.SignIn, &b.SignIn) {
		return true
	}
	for i := range a.OtherSignIns {
		if !samePrivileges(&a.OtherSignIns[i], &b.OtherSignIns[i]) {
			return true
		}
	}
	return false
}

// samePrivileges reports whether x and y are the same sign-in, of the same
// user, acting in the same scope and for the same actor.
func samePrivileges(x, y *SignIn) bool {
	return x.ID == y.ID && x.User.ID == y.User.ID && x.ActiveOrganizationID == y.ActiveOrganizationID &&
		x.ActiveWorkspaceID == y.ActiveWorkspaceID && sameActor(x.Actor, y.Actor)
}

func sameActor(a, b *Actor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Subject == b.Subject
}
