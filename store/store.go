// Package store is the contract between sessionkit and the stores that keep
// its server-side sessions: the Store interface every store implements, the
// optional capabilities a store may add, the Record they keep, and the
// errors they report. Store writers import this package only; applications
// pass a Store to sessionkit.Config.Store.
//
// A Store does three things: Load a record, Save it with compare-and-set,
// Delete it. A store that can do more says so by implementing the optional
// interfaces, which sessionkit finds by type assertion:
//
//   - UserLister (ListByUser): Manager.RevokeUser, Manager.ListSessions, and
//     back-channel logout by "sub";
//   - ProviderSessionLister (ListByProviderSession): back-channel logout by
//     "sid";
//   - Locker (Lock): one token refresh per session across every instance;
//     without it, concurrent refreshes are joined within each instance only;
//   - Consumer (Consume): single-use tickets and the back-channel logout
//     token's replay check; the sign-in state is then consumed across
//     instances too (without it, within each instance).
//
// A feature that needs a capability the Store lacks fails with an error
// that wraps sessionkit.ErrNotConfigured and names the interface.
//
// A wrapper around a Store (for metrics, say) that embeds a concrete store
// type promotes that type's optional methods, which then bypass the
// wrapper: override them too, or embed the Store interface and implement
// the optional interfaces the wrapper means to offer.
package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Errors a Store reports for the outcomes its callers branch on. A Store
// returns them as they are or wrapped (callers test them with errors.Is);
// any other non-nil error is a system error, such as an unreachable server
// or a malformed argument.
var (
	// ErrNotFound means the store holds no live record for the session ID:
	// it never existed, was deleted, or has expired. Load returns it, and
	// so does Save when it updates a record that is gone.
	ErrNotFound = errors.New("sessionkit: session not found in store")

	// ErrConflict means Save lost a compare-and-set: the record's version in
	// the store is not the one the caller read (another writer got there
	// first), or Save tried to create a record whose ID is taken.
	ErrConflict = errors.New("sessionkit: session changed in store (version conflict)")

	// ErrLocked means Locker.Lock found the lock held by someone else.
	ErrLocked = errors.New("sessionkit: lock held by another holder")
)

// Record is what a Store keeps for one server-side session. The store
// treats Data as opaque bytes (sessionkit's encoding of the session) and
// indexes only the other fields.
type Record struct {
	// ID identifies the session: an opaque, high-entropy string chosen by
	// sessionkit. Required.
	ID string
	// UserID is the user the session belongs to (the user of its active
	// sign-in); UserLister finds the session by it. Required. An update
	// may change it.
	UserID string
	// OtherUserIDs are the users of the session's other sign-ins (a
	// browser signed in to several accounts): UserLister finds the session
	// by each of them too. Each must be non-empty, differ from UserID and
	// from the others, and hold no NUL byte. An update replaces the whole
	// list.
	OtherUserIDs []string
	// ProviderSessionIDs are identity-provider session IDs ("sid" claims)
	// that ProviderSessionLister finds the session by, for OpenID Connect
	// back-channel logout. The store compares them as opaque strings, so
	// the caller qualifies each with its issuer. Each must be non-empty
	// and hold no NUL byte. An update replaces the whole list.
	ProviderSessionIDs []string
	// Version is the record's generation, assigned by the store: 1 when the
	// record is created, one more on every successful Save after that.
	// Save compares it to the stored version (compare-and-set); 0 asks Save
	// to create the record.
	Version uint64
	// ExpireAt is when the store drops the record: from that instant on it
	// is invisible to Load and the listings, and its memory is reclaimed
	// soon after. Required. Stores compare it with their own clock (a
	// memstore's Config.Now, a Redis server's clock), and may keep it to
	// their resolution (Redis: a millisecond).
	ExpireAt time.Time
	// Data is the encoded session, opaque to the store.
	Data []byte
}

// Validate reports whether r meets what Store.Save requires: an ID, a
// UserID, an ExpireAt, OtherUserIDs as that field says, and
// ProviderSessionIDs that are non-empty and hold no NUL byte. Stores call
// it before writing.
func (r *Record) Validate() error {
	bad := ""
	switch {
	case r.ID == "":
		bad = "empty ID"
	case r.UserID == "":
		bad = "empty UserID"
	case r.ExpireAt.IsZero():
		bad = "zero ExpireAt"
	}
	for _, sid := range r.ProviderSessionIDs {
		if sid == "" || strings.IndexByte(sid, 0) >= 0 {
			bad = "a ProviderSessionIDs entry is empty or holds a NUL byte"
		}
	}
	for i, u := range r.OtherUserIDs {
		if u == "" || u == r.UserID || strings.IndexByte(u, 0) >= 0 || slices.Contains(r.OtherUserIDs[:i], u) {
			bad = "an OtherUserIDs entry is empty, repeated, equal to UserID or holds a NUL byte"
		}
	}
	if bad != "" {
		return fmt.Errorf("sessionkit: invalid record: %s", bad)
	}
	return nil
}

// ValidateLease reports whether key and ttl are valid arguments of
// Locker.Lock or Consumer.Consume (op names which). Stores call it first.
func ValidateLease(op, key string, ttl time.Duration) error {
	switch {
	case key == "":
		return fmt.Errorf("sessionkit: %s: empty key", op)
	case ttl <= 0:
		return fmt.Errorf("sessionkit: %s: ttl must be positive, got %s", op, ttl)
	}
	return nil
}

// Store keeps server-side sessions, so that they can be shared by many
// instances of an application and ended on the server. With a Store, the
// session cookie holds only the session ID; the state lives here.
//
// Records are written with compare-and-set: every Save names the version it
// read, and fails with ErrConflict if another writer saved in between, so
// two instances never silently overwrite each other. Deletion is
// unconditional. Records expire by themselves at Record.ExpireAt.
//
// Not found is reported as the error ErrNotFound, never as a zero Record
// with a nil error; a lost compare-and-set as ErrConflict. Every other
// error is a system error. Every method, of Store and of the optional
// interfaces, honours its context: it returns no later than shortly after
// ctx is done, with an error that wraps ctx.Err() when that is why it
// stopped.
//
// A Store's Records are the caller's own: Save keeps no reference to the
// Record it is given, and the Records that Load and the listings return
// share nothing with the store, so callers may modify them. The one
// exception is a Load whose context says the caller only reads (see
// SharedLoad).
//
// Implementations must be safe for concurrent use, by many goroutines and,
// for shared stores, many processes. The stores of this repository pass
// one conformance suite, internal/storetest.
type Store interface {
	// Load returns the live record of the session id, or ErrNotFound.
	Load(ctx context.Context, id string) (Record, error)

	// Save writes rec and returns the version it now has.
	//
	// With rec.Version 0 it creates the record, and fails with ErrConflict
	// if a live record with that ID exists. Otherwise it updates the
	// record whose stored version is rec.Version: it fails with
	// ErrConflict if the stored version differs, and with ErrNotFound if
	// there is no live record. The returned version is rec.Version+1.
	//
	// A record saved with an ExpireAt already past is stored as expired:
	// Save succeeds, and the record is gone.
	Save(ctx context.Context, rec Record) (version uint64, err error)

	// Delete removes the session id and its index entries. Deleting a
	// record that does not exist is not an error.
	Delete(ctx context.Context, id string) error
}

// UserLister is a Store that lists sessions by user. sessionkit.Manager's
// RevokeUser and ListSessions need it, and so does a back-channel logout
// token that names a user ("sub") but no provider session.
type UserLister interface {
	// ListByUser returns the live records of userID, those whose UserID
	// is userID and those that list it in OtherUserIDs, in no particular
	// order; none is not an error.
	//
	// Signing a user out everywhere is done from this listing, record by
	// record, rather than by the store: sessionkit saves each record
	// without the user's sign-in, or with the status revoked when no other
	// account is left, in its Data (which only it can encode), so that the
	// user's other devices learn why they were signed out, and a
	// compare-and-set conflict with a concurrent refresh is retried rather
	// than lost. For a minute after a session moves to a new ID, the
	// listing may also hold the small forwarding record of its old ID,
	// which sessionkit skips.
	ListByUser(ctx context.Context, userID string) ([]Record, error)
}

// ProviderSessionLister is a Store that lists sessions by identity-provider
// session. Back-channel logout by "sid" needs it.
type ProviderSessionLister interface {
	// ListByProviderSession returns the live records that list sid in
	// their ProviderSessionIDs, in no particular order; none is not an
	// error.
	ListByProviderSession(ctx context.Context, sid string) ([]Record, error)
}

// Locker is a Store that holds short locks, so that a session's tokens are
// refreshed once across every instance sharing the store. Without it, each
// instance refreshes on its own (concurrent requests within one instance
// share one refresh), and instances that refresh the same session at the
// same time race: the loser of the compare-and-set keeps the winner's
// tokens, but the provider has seen two exchanges of one refresh token,
// which a provider that rotates refresh tokens may take for a replay.
//
// Lock keys live in a namespace of their own: Lock("x") touches no session
// "x", nor Consume("x").
type Locker interface {
	// Lock acquires the lock named key for at most ttl, without waiting:
	// if another holder has it, Lock returns ErrLocked at once. The
	// returned unlock releases the lock if this holder still has it, and
	// does nothing if the lock expired meanwhile (even if someone else
	// holds it now); calling it again is harmless. A holder that dies
	// without unlocking blocks others until ttl has passed. ttl must be
	// positive; stores may round it up to their resolution (Redis: 1 ms).
	//
	// Lock does not wait because what a loser wants is the winner's
	// result, not the lock. To refresh a session once across instances,
	// each instance that finds it due calls Lock. The holder loads the
	// record again (someone may have refreshed it already), refreshes,
	// saves and unlocks. The others poll Load until the record holds a
	// refresh token other than the one they would exchange, and use that
	// record, calling Lock again between polls, so that one of them takes
	// over if the holder dies; they stop when their ctx is done.
	// sessionkit names the lock after the refresh token ("refresh:" and a
	// SHA-256 of provider and token), not the session.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Consumer is a Store that records one-time keys. Single-use tickets
// (Manager.MintTicket) and back-channel logout (the logout token's "jti")
// need it; with it, a sign-in state is consumed across instances, and
// without it within each instance only.
//
// One-time keys live in a namespace of their own: Consume("x") touches no
// session "x", nor Lock("x").
type Consumer interface {
	// Consume marks key as used for ttl and reports whether this call was
	// the first to do so: across all callers, exactly one call per key
	// gets first == true until ttl has passed. ttl must be positive.
	Consume(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// WithSharedLoad returns ctx for a call of s's Load whose caller only
// reads the Record it returns, as the middleware does when it reads the
// session of a request. See SharedLoad.
func WithSharedLoad(ctx context.Context, s Store) context.Context {
	return context.WithValue(ctx, sharedLoadKey{}, s)
}

// SharedLoad reports whether ctx comes from WithSharedLoad for s itself.
// s's Load may then return a Record whose Data and slices are shared with
// the store and with other such callers instead of copied, provided the
// store never changes them in place (a Save keeps new copies), as memstore
// and redisstore do. A Store that ignores it stays correct.
//
// The hint names one store so that it never reaches a store behind a
// wrapper: a wrapper that is given ctx for itself passes on a hint for
// nothing, and may write into the Records it gets, as any caller of Load
// may. This holds even for a wrapper that embeds a concrete store type and
// overrides only Load, which an optional method (promoted from the
// embedded store) would let reads bypass.
func SharedLoad(ctx context.Context, s Store) bool {
	v, ok := ctx.Value(sharedLoadKey{}).(Store)
	if !ok || s == nil {
		return false
	}
	// Interfaces holding values of one type that cannot be compared
	// would panic.
	t := reflect.TypeOf(v)
	return t == reflect.TypeOf(s) && t.Comparable() && v == s
}

// sharedLoadKey is the context key of SharedLoad.
type sharedLoadKey struct{}
