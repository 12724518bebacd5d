// Package introspect verifies opaque access tokens by asking their
// providers (OAuth 2.0 Token Introspection, RFC 7662): one question per
// token at a time, answers that a token is not active remembered briefly,
// and the questions of a process bounded by a rate limit. Remembering the
// active ones is the caller's: it caches what it builds from them.
package introspect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/sessionkit/sessionkit/internal/credcache"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/refresh"
)

// The bounds of what a Verifier remembers and asks.
const (
	// MaxActiveAge is the longest an active answer may be relied on
	// (Result.Until), however late the token expires: a token revoked at
	// the provider is refused at most this long after.
	MaxActiveAge = time.Minute
	// InactiveAge is how long an inactive answer is remembered.
	InactiveAge = 10 * time.Second
	// PerSecond is how many introspections a Verifier sends a second, in
	// bursts of as many.
	PerSecond = 100
	// inactiveBytes is the memory budget of the inactive answers.
	inactiveBytes = 1 << 20
	inactiveEntry = 64
)

// Errors of Verify. The caller wraps them in its own, which names the
// library.
var (
	// ErrInactive: every provider said the token is not active.
	ErrInactive = errors.New("the token is not active")
	// ErrLimited: the rate limit refused a new introspection.
	ErrLimited = errors.New("too many token introspections")
	// ErrRefused: the token is active but Policy refuses it (another
	// client's or another service's token, a refresh token, no subject).
	ErrRefused = errors.New("the token is not an access token for this service")
)

// Policy is what an active answer must say for its token to be accepted:
// a subject ("sub"); when they are present, an access token's
// "token_type" or "token_use", and Issuer's "iss"; and one of Audiences
// in "aud" or as "client_id" (RFC 7662 section 4: an introspection
// endpoint answers for every token the provider issued, to any client).
type Policy struct {
	Issuer    string   // "" accepts any "iss"
	Audiences []string // at least one must match
}

// Check returns ErrRefused, with the reason, when claims do not satisfy p.
func (p Policy) Check(claims map[string]any) error {
	str := func(k string) string { s, _ := claims[k].(string); return s }
	switch {
	case str("sub") == "":
		return fmt.Errorf("%w: no sub", ErrRefused)
	case !accessTokenType(str("token_type")) || !accessTokenType(str("token_use")):
		return fmt.Errorf("%w: not an access token", ErrRefused)
	case p.Issuer != "" && str("iss") != "" && str("iss") != p.Issuer:
		return fmt.Errorf("%w: another issuer", ErrRefused)
	}
	for _, a := range p.Audiences {
		if a != "" && (str("client_id") == a || hasAudience(claims["aud"], a)) {
			return nil
		}
	}
	return fmt.Errorf("%w: meant for another audience", ErrRefused)
}

// accessTokenType reports whether a token_type or token_use value (""
// when absent) may name an access token.
func accessTokenType(v string) bool {
	switch strings.ToLower(v) {
	case "", "bearer", "dpop", "access_token", "urn:ietf:params:oauth:token-type:access_token":
		return true
	}
	return false
}

// hasAudience reports whether aud, a string or an array of them, names a.
func hasAudience(aud any, a string) bool {
	switch aud := aud.(type) {
	case string:
		return aud == a
	case []any:
		for _, x := range aud {
			if x == a {
				return true
			}
		}
	}
	return false
}

// Endpoint resolves a provider's introspection endpoint and the client
// authentication it takes.
type Endpoint func(ctx context.Context) (url string, auth oidc.ClientAuth, err error)

// Result is an active token's introspection.
type Result struct {
	Claims map[string]any // the answer's members, "active" left out; shared, read-only
	Until  time.Time      // when to ask again: the token's exp, within MaxActiveAge
}

// Verifier verifies opaque tokens at its endpoints, in order: the first
// that says a token is active wins. It is safe for concurrent use.
type Verifier struct {
	ctx       context.Context // ends at Close: the flights' parent
	cancel    context.CancelFunc
	endpoints []Endpoint
	policy    Policy
	client    *http.Client
	timeout   time.Duration
	now       func() time.Time
	flights   *refresh.Group[Result]
	hash      credcache.Hasher
	inactive  *credcache.Cache[struct{}]
	limit     *rate.Limiter
}

// New returns a Verifier asking endpoints through client and accepting
// what policy accepts, or nil without endpoints; each question and each
// caller's wait is bounded by timeout.
func New(endpoints []Endpoint, policy Policy, client *http.Client, timeout time.Duration, now func() time.Time) *Verifier {
	if len(endpoints) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Verifier{ctx: ctx, cancel: cancel, endpoints: endpoints, policy: policy, client: client, timeout: timeout, now: now,
		flights: refresh.NewGroup[Result](timeout, nil), hash: credcache.NewHasher(),
		inactive: credcache.New[struct{}](inactiveBytes), limit: rate.NewLimiter(PerSecond, PerSecond)}
}

// Close cancels the running introspections and waits for them to end. A
// nil Verifier does nothing.
func (v *Verifier) Close() {
	if v == nil {
		return
	}
	v.cancel()
	v.flights.Close()
}

// Verify returns the introspection of token: a Result when active and
// accepted by the Policy, ErrInactive or ErrRefused (either remembered
// InactiveAge) when not, or why no provider could say (ErrLimited,
// refresh.ErrWaitTimeout, refresh.ErrAbandoned, a provider's failure).
func (v *Verifier) Verify(ctx context.Context, token string) (Result, error) {
	k := v.hash.Sum([]string{token})
	if _, ok := v.inactive.Get(k, v.now()); ok {
		return Result{}, ErrInactive
	}
	return v.flights.Do(ctx, k.String(), func() (Result, error) {
		if !v.limit.AllowN(v.now(), 1) { // the Verifier's clock, not the wall's
			return Result{}, ErrLimited
		}
		ictx, cancel := context.WithTimeout(v.ctx, v.timeout)
		defer cancel()
		r, err := v.ask(ictx, token)
		if err == nil {
			if err = v.policy.Check(r.Claims); err != nil {
				r = Result{}
			}
		}
		if errors.Is(err, ErrInactive) || errors.Is(err, ErrRefused) {
			now := v.now()
			v.inactive.Put(k, inactiveEntry, now.Add(InactiveAge), now, func() struct{} { return struct{}{} })
		}
		return r, err
	})
}

// ask asks each endpoint in turn until one says token is active.
func (v *Verifier) ask(ctx context.Context, token string) (Result, error) {
	var errs []error
	for _, e := range v.endpoints {
		endpoint, auth, err := e(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in, err := oidc.Introspect(ctx, v.client, endpoint, auth, token)
		switch {
		case err != nil:
			errs = append(errs, err)
		case in.Active:
			return Result{Claims: in.Claims, Until: v.until(in.Expiry)}, nil
		}
	}
	if len(errs) > 0 {
		return Result{}, errors.Join(errs...)
	}
	return Result{}, ErrInactive
}

// until is when an active answer for a token expiring at exp runs out.
func (v *Verifier) until(exp time.Time) time.Time {
	limit := v.now().Add(MaxActiveAge)
	if exp.IsZero() || exp.After(limit) {
		return limit
	}
	return exp
}
