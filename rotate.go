package sessionkit

import (
	"crypto/rand"
	"slices"

	"github.com/sessionkit/sessionkit/internal/record"
)

// Session IDs rotate when a session's privileges change (who it acts as,
// the accounts, the actor, the organization or workspace), so that an ID
// planted or leaked before is worth nothing after. With a Store the session
// is saved under the new ID and its old record becomes a forwarding stub
// (record.Moved), which the old cookie never gets through (fixation).

// errMoved is what fromRecord returns for a forwarding stub.
type errMoved struct{ record.Moved }

func (e *errMoved) Error() string { return "sessionkit: stored session moved to a new ID" }

// newSessionID returns a fresh random session ID.
func newSessionID() string { return "sess_" + rand.Text() }

// privilegeChanged reports whether b acts as another or in another scope.
func privilegeChanged(a, b *Session) bool {
	return !samePrivileges(&a.SignIn, &b.SignIn) ||
		!slices.EqualFunc(a.OtherSignIns, b.OtherSignIns, func(x, y SignIn) bool { return samePrivileges(&x, &y) })
}

// samePrivileges reports whether x and y are the same sign-in, user,
// scope and actor.
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
