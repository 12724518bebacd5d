package jwtverify

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Bounds on attacker-controlled input, checked before any parsing.
const (
	// MaxTokenLen is the longest token Verify parses.
	MaxTokenLen = 16 << 10
	// MaxKIDLen is the longest "kid" header accepted.
	MaxKIDLen = 256
)

// maxNumericDate is the last second representable as a time.Time in
// nanoseconds since the Unix epoch (year 2262).
const maxNumericDate = 9223372036

// Key is a verification key known in advance.
type Key struct {
	// ID matches the token's "kid" header; empty matches any kid.
	ID string
	// Key is an *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or a
	// []byte HMAC secret.
	Key any
}

// Config says which JWTs a Verifier trusts. The caller validates it and
// applies its defaults: New takes every field as it is.
type Config struct {
	// JWKSURLs are JWK Set endpoints to take verification keys from.
	JWKSURLs []string
	// StaticKeys are tried before the JWK Sets.
	StaticKeys []Key
	// Algorithms is the allow-list of "alg" values.
	Algorithms []string
	// Issuer is the required "iss", unless SkipIssuerCheck.
	Issuer string
	// Audience lists accepted "aud" values, unless SkipAudienceCheck.
	Audience []string
	// AuthorizedParties, when set, lists accepted "azp" values.
	AuthorizedParties []string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// SkipIssuerCheck accepts any "iss".
	SkipIssuerCheck bool
	// SkipAudienceCheck accepts any "aud".
	SkipAudienceCheck bool

	// RefreshInterval is how often the JWK Sets are fetched again.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches caused by
	// tokens naming a key not held.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one fetch of every JWK Set URL.
	FetchTimeout time.Duration
	// Client makes the fetches.
	Client *http.Client
	// Logger is told of failed fetches.
	Logger *slog.Logger
	// Name names this configuration in log lines.
	Name string
	// Now is the clock the time claims are checked against.
	Now func() time.Time
	// OnUnknownKey, if set, is called as a token naming a key not held
	// starts a fetch of the JWK Sets.
	OnUnknownKey func()
}

// Verifier verifies JWTs against one Config. It is safe for concurrent use.
type Verifier struct {
	cfg       Config
	parser    *jwt.Parser
	validator *jwt.Validator
	noExp     *jwt.Validator // validator without exp required: VerifyLogoutToken
	jwks      *keySet        // nil without JWKSURLs
}

// New returns a Verifier for cfg. With JWK Set URLs it starts fetching
// them in the background, on ctx, until ctx ends; call Wait after ending
// ctx to wait for that work to stop.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{
		cfg: cfg,
		// Claims are validated separately, so that a token whose only
		// fault is its age can be told apart from a forged one.
		parser: jwt.NewParser(jwt.WithValidMethods(cfg.Algorithms), jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding()),
	}
	opts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithIssuedAt(),
	}
	if !cfg.SkipIssuerCheck {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if !cfg.SkipAudienceCheck {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	v.noExp = jwt.NewValidator(opts...)
	v.validator = jwt.NewValidator(append(opts, jwt.WithExpirationRequired())...)
	if len(cfg.JWKSURLs) > 0 {
		jwks, err := newKeySet(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		v.jwks = jwks
	}
	return v, nil
}

// Generation identifies the verifier's current keys: it changes whenever
// its JWK Sets are fetched again, which invalidates what was verified with
// the keys before.
func (v *Verifier) Generation() uint64 {
	if v.jwks == nil {
		return 0
	}
	return v.jwks.gen.Load()
}

// Keys reports how many keys the verifier's JWK Sets gave it.
func (v *Verifier) Keys() int {
	if v.jwks == nil {
		return 0
	}
	return v.jwks.count()
}

// Wait stops new fetches and blocks until the background work has ended;
// the context given to New must have ended first. The Verifier still
// verifies with the keys it holds.
func (v *Verifier) Wait() {
	if v.jwks != nil {
		v.jwks.wait()
	}
}

// Fetching returns a channel closed when the running JWK Set fetch ends,
// or nil when none runs.
func (v *Verifier) Fetching() <-chan struct{} {
	if v.jwks == nil {
		return nil
	}
	if ch := v.jwks.running(); ch != nil {
		return ch
	}
	return nil
}

// Verify checks raw and returns its claims and its "typ" header ("" when
// absent or not a string). A token with a valid signature and valid claims
// except an exp in the past returns its claims and an error wrapping
// ErrExpired; any other error comes without claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (claims jwt.MapClaims, typ string, err error) {
	if len(raw) > MaxTokenLen {
		return nil, "", ErrTooLong
	}
	claims = jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(raw, claims, v.keyfunc(ctx))
	if err != nil {
		return nil, "", err
	}
	typ, _ = tok.Header["typ"].(string)
	claims, err = v.checkClaims(claims, v.validator)
	return claims, typ, err
}

// checkClaims validates with validator the claims of a token whose
// signature verified.
func (v *Verifier) checkClaims(claims jwt.MapClaims, validator *jwt.Validator) (jwt.MapClaims, error) {
	// jwt/v5 turns a NumericDate past 2^63 ns into a time that wraps: such
	// an nbf or iat would pass. No real token carries one.
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if f, ok := claims[name].(float64); ok && (f < 0 || f > maxNumericDate) {
			return nil, fmt.Errorf("%w: %s", ErrTimeRange, name)
		}
	}
	if len(v.cfg.AuthorizedParties) > 0 {
		azp, _ := claims["azp"].(string)
		if !slices.Contains(v.cfg.AuthorizedParties, azp) {
			return nil, ErrAZP
		}
	}
	// Only a token that passes every other check is reported as expired.
	if err := validator.Validate(claims); err != nil {
		if onlyExpired(err) {
			return claims, ErrExpired
		}
		return nil, err
	}
	return claims, nil
}

// onlyExpired reports whether a claims-validation error is exactly one
// failure, and that failure is exp.
func onlyExpired(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		return len(errs) == 1 && errors.Is(errs[0], jwt.ErrTokenExpired)
	}
	return errors.Is(err, jwt.ErrTokenExpired)
}

// VerifyIDToken verifies an OpenID Connect ID token for sign-in: the
// checks of Verify, an unexpired token, the nonce when one is expected,
// and azp per OpenID Connect Core 3.1.3.7.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, nonce string) (jwt.MapClaims, error) {
	claims, _, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	return v.idTokenClaims(claims, nonce)
}

// idTokenClaims checks azp and the nonce of verified ID token claims.
func (v *Verifier) idTokenClaims(claims jwt.MapClaims, nonce string) (jwt.MapClaims, error) {
	aud, _ := claims.GetAudience()
	azp, hasAZP := claims["azp"].(string)
	if (len(aud) > 1 && !hasAZP) || (hasAZP && !slices.Contains(v.cfg.Audience, azp) && !v.cfg.SkipAudienceCheck) {
		return nil, ErrAZP
	}
	if nonce != "" {
		got, _ := claims["nonce"].(string)
		if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return nil, ErrNonce
		}
	}
	return claims, nil
}

// keyfunc picks the verification key(s) for a token: static keys first,
// then the JWK Sets. Only keys whose family matches the token's algorithm
// are ever returned, and a JWK Set never supplies an HMAC secret, so an
// asymmetric public key can never verify an HS256 signature.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, ErrCritHeader
		}
		family := AlgFamily(t.Method.Alg())
		kid, hasKID, err := headerKID(t)
		if err != nil {
			return nil, err
		}
		keys, named := v.staticKeys(family, kid, hasKID)
		if named != nil {
			return named, nil
		}
		if v.jwks != nil && family != FamilyOct {
			remote, err := v.jwks.keys(ctx, t, family)
			if err != nil && len(keys) == 0 {
				return nil, err
			}
			keys = append(keys, remote...)
		}
		switch len(keys) {
		case 0:
			return nil, ErrNoKey
		case 1:
			return keys[0], nil
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	}
}

// headerKID reads the "kid" header: has is false when there is none.
func headerKID(t *jwt.Token) (kid string, has bool, err error) {
	k, ok := t.Header["kid"]
	if !ok {
		return "", false, nil
	}
	s, ok := k.(string)
	if !ok || s == "" || len(s) > MaxKIDLen {
		return "", false, ErrBadKID
	}
	return s, true, nil
}

// staticKeys returns the static key of family that kid names, or else the
// static keys of family that may verify the token: those without an ID,
// or every one when the token names no kid.
func (v *Verifier) staticKeys(family, kid string, hasKID bool) (keys []jwt.VerificationKey, named jwt.VerificationKey) {
	for _, sk := range v.cfg.StaticKeys {
		if KeyFamily(sk.Key) != family {
			continue
		}
		if hasKID && sk.ID == kid {
			return nil, sk.Key
		}
		if sk.ID == "" || !hasKID {
			keys = append(keys, sk.Key)
		}
	}
	return keys, nil
}
