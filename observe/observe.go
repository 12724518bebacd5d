// Package observe is the vocabulary a sessionkit.Manager reports what it
// does in, for metrics and traces: an Observer of optional hooks, set in
// sessionkit.Config.Observer, and the bounded values its events carry.
// Events name outcomes, sources, operations and durations, never a user, a
// session ID or a token, so that every attribute set built from them is
// small and fixed.
//
// The package depends on the standard library only; the OpenTelemetry
// implementation is the module github.com/sessionkit/sessionkit/otel. A
// Manager without an Observer pays a nil check per event.
package observe

import (
	"context"
	"net/http"
	"time"
)

// Observer receives a Manager's events. Every field is optional; the hooks
// run synchronously on the goroutine of the event, concurrently with each
// other, so they must be fast and safe for concurrent use, and must not
// panic. Their contexts carry the request's (and its span) when there is
// one.
type Observer struct {
	// Read is called once per decoded request (Middleware, Require, or a
	// call of GetServerSession without them) with its outcome.
	Read func(ctx context.Context, e Read)
	// Refresh is called once per token-endpoint exchange of a refresh
	// token, and once per request that applies another one's refresh.
	Refresh func(ctx context.Context, e Refresh)
	// Event is called as the Manager counts e once.
	Event func(ctx context.Context, e Event)
	// Store is called as a Store operation starts; done, which may be
	// nil, is called as it ends with its result (nil, or an error, which
	// store.ErrNotFound and store.ErrConflict are among). The returned
	// context, which must derive from ctx, is the operation's.
	Store func(ctx context.Context, op StoreOp) (_ context.Context, done func(err error))
	// Transport, if set, wraps the transport of the Manager's outgoing
	// requests (discovery, JWK Sets, token, userinfo and revocation
	// endpoints), inside the body size limit; CallOf tells a request's
	// purpose. Each request's context derives from the one of the request
	// that caused it, or the Manager's for background fetches.
	Transport func(base http.RoundTripper) http.RoundTripper
	// Detach returns to, a context that outlives from (a refresh shared
	// by several requests runs on one), carrying what it needs of from
	// (its span, as a parent). Nil keeps to as it is.
	Detach func(from, to context.Context) context.Context
	// Register is called once by sessionkit.New with the Manager's gauges,
	// which read its state when called; the Observer reads them when it
	// collects. Manager.Close calls the returned function, if not nil.
	Register func(g Gauges) (unregister func())
}

// Gauges read a Manager's state. Each is safe for concurrent use and
// cheap: it sums a few counters.
type Gauges struct {
	// Cache reads the verified-credential cache's counters.
	Cache func() CacheStats
	// Keys reports how many verification keys the Manager holds, from
	// its providers' and Config.Bearer's JWK Sets.
	Keys func() int
}

// CacheStats are the verified-credential cache's counters, all zero when
// it is off. A request makes one lookup: for a stateless cookie or a JWT
// its session, for a store-backed cookie its reference.
type CacheStats struct {
	Entries   int    // entries held, expired ones not yet reclaimed included
	Bytes     int64  // their estimated sizes, summed, within Config.CacheBytes
	Hits      uint64 // lookups that found a valid entry, since New
	Misses    uint64 // lookups that did not
	Evictions uint64 // valid entries dropped to make room
}

// Read is the outcome of reading one request's credentials.
type Read struct {
	Outcome Outcome
	Source  Source // SourceNone with OutcomeNone
}

// Outcome is how a request's read ended.
type Outcome uint8

// The outcomes of a read.
const (
	OutcomeNone             Outcome = iota // no credential was presented
	OutcomeActive                          // an active session
	OutcomeExpired                         // a valid credential of a session no longer active
	OutcomeInvalid                         // the credential failed verification
	OutcomeStoreUnavailable                // the Store failed: no session (fail closed)
)

// Source is the credential a read's session came from.
type Source uint8

// The sources of a session.
const (
	SourceNone      Source = iota
	SourceCookie           // the session cookie, stateless or store-backed
	SourceBearer           // an Authorization: Bearer JWT
	SourceJWTCookie        // the JWT cookie of Config.Bearer
)

// Refresh is the outcome of one refresh of an access token.
type Refresh struct {
	Outcome RefreshOutcome
	// Duration is the token endpoint's latency, for the exchanges
	// (RefreshShared excluded).
	Duration time.Duration
}

// RefreshOutcome is how a refresh ended.
type RefreshOutcome uint8

// The outcomes of a refresh.
const (
	// RefreshRefreshed: the provider issued new tokens.
	RefreshRefreshed RefreshOutcome = iota
	// RefreshShared: a request applied tokens that another request or
	// instance refreshed.
	RefreshShared
	// RefreshFailedTransient: the exchange failed; it is retried after
	// a backoff.
	RefreshFailedTransient
	// RefreshFailedDead: the provider refused the refresh token, which
	// is dropped.
	RefreshFailedDead
)

// Event is a countable event.
type Event uint8

// The events counted.
const (
	EventSignIn            Event = iota // a session was signed in
	EventSignOut                        // a session or one of its sign-ins was signed out
	EventBackchannelLogout              // a logout token was accepted
	EventTheft                          // a superseded cookie came back: its session was revoked
	EventTicketRedeemed                 // a one-time ticket was redeemed
	EventTokenMinted                    // a template token was minted (not served from its cache)
	EventSuccessorGrace                 // a superseded cookie within its grace window got its successor
	EventUnknownKey                     // a token named a key not held: its JWK Set was fetched again
)

// StoreOp is a Store operation.
type StoreOp uint8

// The Store operations.
const (
	StoreLoad StoreOp = iota
	StoreSave
	StoreDelete
	StoreListByUser
	StoreListByProviderSession
	StoreLock
	StoreUnlock
	StoreConsume
)

// Call is the purpose of an outgoing request.
type Call uint8

// The purposes of outgoing requests.
const (
	CallOther Call = iota
	CallDiscovery
	CallJWKS
	CallToken    // the authorization code's exchange
	CallRefresh  // a refresh token's exchange
	CallUserInfo // the userinfo endpoint
	CallRevocation
	CallIntrospection
)

type callKey struct{}

// WithCall returns ctx marking the outgoing requests made with it as c.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallOf returns the purpose WithCall marked ctx with, CallOther if none.
func CallOf(ctx context.Context) Call {
	c, _ := ctx.Value(callKey{}).(Call)
	return c
}
