package sessionkit

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Bounds on attacker-controlled input, checked before any parsing.
const (
	maxTokenLen = 16 << 10
	maxKIDLen   = 256
)

var (
	errCritHeader     = errors.New(`"crit" header parameters are not supported`)
	errBadKID         = errors.New(`"kid" header must be a non-empty string of at most 256 bytes`)
	errNoKey          = errors.New("no verification key for this token")
	errKeyType        = errors.New("key type does not match the token's algorithm")
	errTooLong        = errors.New("token too long")
	errAZP            = errors.New(`"azp" is missing or not an authorized party`)
	errTimeRange      = errors.New("a time claim is out of range")
	errNonce          = errors.New(`"nonce" does not match`)
	errMalformedAuthz = errors.New("malformed Authorization header")
	errIDToken        = errors.New("an ID token is not an access token")
	errNotATJWT       = errors.New(`header "typ" is not at+jwt (RFC 9068 access token)`)
)

// jwtVerifier verifies JWTs against one JWTConfig. It is safe for concurrent
// use.
type jwtVerifier struct {
	cfg       *JWTConfig
	parser    *jwt.Parser
	validator *jwt.Validator
	jwks      *remoteKeySet // nil without JWKSURLs
}

func newJWTVerifier(ctx context.Context, cfg *JWTConfig, s *settings, client *http.Client, field string) (*jwtVerifier, error) {
	v := &jwtVerifier{
		cfg: cfg,
		// Claims are validated separately, so that a token whose only
		// fault is its age can be told apart from a forged one.
		parser: jwt.NewParser(jwt.WithValidMethods(cfg.Algorithms), jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding()),
	}
	opts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(s.Now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
	}
	if !cfg.SkipIssuerCheck {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if !cfg.SkipAudienceCheck {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	v.validator = jwt.NewValidator(opts...)
	if len(cfg.JWKSURLs) > 0 {
		jwks, err := newRemoteKeySet(ctx, cfg, s, client, field)
		if err != nil {
			return nil, &ConfigError{Field: field + ".JWKSURLs", Reason: "cannot build the key set", Err: err}
		}
		v.jwks = jwks
	}
	return v, nil
}

// generation identifies the verifier's current keys: it changes whenever
// its JWK Sets are fetched again, which invalidates cached verifications.
func (v *jwtVerifier) generation() uint64 {
	if v.jwks == nil {
		return 0
	}
	return v.jwks.gen.Load()
}

// verify checks raw and returns its claims. A token with a valid signature
// and valid claims except an exp in the past returns its claims and an error
// matching both ErrInvalidToken and ErrTokenExpired.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (jwt.MapClaims, error) {
	claims, _, err := v.verifyTyped(ctx, raw)
	return claims, err
}

// verifyTyped is verify that also returns the token's "typ" header ("" when
// absent or not a string).
func (v *jwtVerifier) verifyTyped(ctx context.Context, raw string) (jwt.MapClaims, string, error) {
	if len(raw) > maxTokenLen {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidToken, errTooLong)
	}
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(raw, claims, v.keyfunc(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	typ, _ := tok.Header["typ"].(string)
	claims, err = v.checkClaims(claims)
	return claims, typ, err
}

// checkClaims validates the claims of a token whose signature verified.
func (v *jwtVerifier) checkClaims(claims jwt.MapClaims) (jwt.MapClaims, error) {
	// jwt/v5 turns a NumericDate past 2^63 ns into a time that wraps: such
	// an nbf or iat would pass. No real token carries one.
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if f, ok := claims[name].(float64); ok && (f < 0 || f > maxNumericDate) {
			return nil, fmt.Errorf("%w: %w: %s", ErrInvalidToken, errTimeRange, name)
		}
	}
	if len(v.cfg.AuthorizedParties) > 0 {
		azp, _ := claims["azp"].(string)
		if !slices.Contains(v.cfg.AuthorizedParties, azp) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errAZP)
		}
	}
	// Only a token that passes every other check is reported as expired.
	if err := v.validator.Validate(claims); err != nil {
		if onlyExpired(err) {
			return claims, fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenExpired)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return claims, nil
}

// maxNumericDate is the last second representable as a time.Time in
// nanoseconds since the Unix epoch (year 2262).
const maxNumericDate = 9223372036

// onlyExpired reports whether a claims-validation error is exactly one
// failure, and that failure is exp.
func onlyExpired(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		return len(errs) == 1 && errors.Is(errs[0], jwt.ErrTokenExpired)
	}
	return errors.Is(err, jwt.ErrTokenExpired)
}

// keyfunc picks the verification key(s) for a token: static keys first, then
// the JWK Sets. Only keys whose type matches the token's algorithm family
// are ever returned, and a JWK Set never supplies an HMAC secret, so an
// asymmetric public key can never verify an HS256 signature.
func (v *jwtVerifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritHeader
		}
		family := algFamily(t.Method.Alg())
		kid, hasKID := "", false
		if k, ok := t.Header["kid"]; ok {
			s, ok := k.(string)
			if !ok || s == "" || len(s) > maxKIDLen {
				return nil, errBadKID
			}
			kid, hasKID = s, true
		}
		var keys []jwt.VerificationKey
		for _, sk := range v.cfg.StaticKeys {
			if keyFamily(sk.Key) != family {
				continue
			}
			if hasKID && sk.ID == kid {
				return sk.Key, nil
			}
			if sk.ID == "" || !hasKID {
				keys = append(keys, sk.Key)
			}
		}
		if v.jwks != nil && family != "oct" {
			remote, err := v.jwks.keys(ctx, t, family)
			if err != nil && len(keys) == 0 {
				return nil, err
			}
			keys = append(keys, remote...)
		}
		switch len(keys) {
		case 0:
			return nil, errNoKey
		case 1:
			return keys[0], nil
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	}
}

// verifyIDToken verifies an OpenID Connect ID token for sign-in: the
// checks of verify, an unexpired token, the nonce when one is expected, and
// azp per OpenID Connect Core 3.1.3.7.
func (v *jwtVerifier) verifyIDToken(ctx context.Context, raw, nonce string) (jwt.MapClaims, error) {
	claims, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	aud, _ := claims.GetAudience()
	azp, hasAZP := claims["azp"].(string)
	if (len(aud) > 1 && !hasAZP) || (hasAZP && !slices.Contains(v.cfg.Audience, azp) && !v.cfg.SkipAudienceCheck) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errAZP)
	}
	if nonce != "" {
		got, _ := claims["nonce"].(string)
		if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errNonce)
		}
	}
	return claims, nil
}

// bearerToken returns the token of an "Authorization: Bearer" header: ""
// and nil when there is no such header (another scheme is not ours), an
// error wrapping ErrInvalidToken when it is malformed (checkB64Token
// checks its characters).
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header["Authorization"]
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("%w: %w: more than one header", ErrInvalidToken, errMalformedAuthz)
	}
	tok, ok := bearerCredentials(vals[0])
	if !ok {
		return "", nil
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", fmt.Errorf("%w: %w: empty token", ErrInvalidToken, errMalformedAuthz)
	}
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("%w: %w: %w", ErrInvalidToken, errMalformedAuthz, errTooLong)
	}
	return tok, nil
}

// checkB64Token returns the error of a bearer token that holds bytes
// RFC 6750's b64token does not allow. The middleware checks a token only
// when the verified-credential cache does not hold it: one it holds was
// checked when it was verified.
func checkB64Token(tok string) error {
	if !isB64Token(tok) {
		return fmt.Errorf("%w: %w: invalid characters", ErrInvalidToken, errMalformedAuthz)
	}
	return nil
}

// bearerCredentials splits an Authorization header value: ok reports the
// Bearer scheme (case-insensitive), and rest is what follows its space.
func bearerCredentials(v string) (rest string, ok bool) {
	scheme, rest, _ := strings.Cut(v, " ")
	return rest, strings.EqualFold(scheme, "Bearer")
}

// isB64Token reports whether s matches RFC 6750's b64token.
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// sessionFromClaims builds the snapshot of a bearer (or JWT-cookie) session.
func sessionFromClaims(claims jwt.MapClaims, raw string, src Source, now time.Time) *Session {
	// One allocation for the session and its claims box. The claims are
	// shared with the cache entry, read-only: Claims copies them.
	b := &sessionWithClaims{Session: Session{
		Source:       src,
		Status:       StatusActive,
		ID:           claimString(claims, "sid"),
		SignIn:       SignIn{User: userFromClaims(claims), AccessToken: raw, TokenType: "Bearer"},
		JWT:          raw,
		LastActiveAt: now,
	}}
	b.claims.shared = claims
	s := &b.Session
	s.JWTPayload.b = &b.claims
	if exp, _ := claims.GetExpirationTime(); exp != nil {
		s.ExpireAt = exp.UTC()
		s.AccessTokenExpiresAt = s.ExpireAt
	}
	if iat, _ := claims.GetIssuedAt(); iat != nil {
		s.CreatedAt = iat.UTC()
	}
	if act, ok := claims["act"].(map[string]any); ok {
		if sub, _ := act["sub"].(string); sub != "" {
			s.Actor = &Actor{Subject: sub}
		}
	}
	s.ActiveOrganizationID = claimString(claims, "org_id")
	return s
}

// userFromClaims reads the standard OpenID Connect profile claims.
func userFromClaims(c jwt.MapClaims) User {
	return User{
		ID:            claimString(c, "sub"),
		Name:          claimString(c, "name"),
		Email:         claimString(c, "email"),
		Image:         claimString(c, "picture"),
		FirstName:     claimString(c, "given_name"),
		LastName:      claimString(c, "family_name"),
		Username:      claimString(c, "preferred_username"),
		EmailVerified: claimBool(c, "email_verified"),
		PhoneNumber:   claimString(c, "phone_number"),
		PhoneVerified: claimBool(c, "phone_number_verified"),
	}
}

func claimString(c jwt.MapClaims, k string) string {
	s, _ := c[k].(string)
	return s
}

// claimBool accepts true and "true": some providers send booleans as strings.
func claimBool(c jwt.MapClaims, k string) bool {
	switch v := c[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// isATJWTType reports whether a "typ" header names an RFC 9068 access
// token: "at+jwt" or "application/at+jwt", compared as media types are
// (RFC 7515 section 4.1.9: case-insensitive, "application/" optional).
func isATJWTType(typ string) bool {
	t := strings.ToLower(typ)
	return strings.TrimPrefix(t, "application/") == "at+jwt"
}

// checkAccessToken decides whether a verified bearer token may stand for
// an access token. With RequireAccessTokenType only an RFC 9068 "typ"
// does. Otherwise a token that says it is an access token passes (the
// "typ" header, or the "typ"/"token_use" claims some providers set); one
// with an ID token's marks ("nonce", "at_hash", "c_hash", a "typ" claim of
// "ID", "token_use" "id") is refused; and one whose "aud" or "azp" names
// a configured Provider's client ID is refused unless it carries a claim
// only access tokens carry ("client_id", "scope", "scp"), since that is
// exactly what an ID token issued to this application looks like.
func checkAccessToken(cfg *JWTConfig, typ string, c jwt.MapClaims, clientIDs []string) error {
	if isATJWTType(typ) {
		return nil
	}
	if cfg.RequireAccessTokenType {
		return errNotATJWT
	}
	switch strings.ToLower(claimString(c, "typ")) {
	case "bearer", "at+jwt":
		return nil
	case "id":
		return errIDToken
	}
	switch claimString(c, "token_use") {
	case "access":
		return nil
	case "id":
		return errIDToken
	}
	for _, k := range [...]string{"nonce", "at_hash", "c_hash"} {
		if _, ok := c[k]; ok {
			return errIDToken
		}
	}
	if !namesClient(c, clientIDs) {
		return nil
	}
	for _, k := range [...]string{"client_id", "scope", "scp"} {
		if _, ok := c[k]; ok {
			return nil
		}
	}
	return errIDToken
}

// namesClient reports whether a token's "aud" or "azp" is one of
// clientIDs.
func namesClient(c jwt.MapClaims, clientIDs []string) bool {
	if len(clientIDs) == 0 {
		return false
	}
	if slices.Contains(clientIDs, claimString(c, "azp")) {
		return true
	}
	aud, _ := c.GetAudience()
	for _, a := range aud {
		if slices.Contains(clientIDs, a) {
			return true
		}
	}
	return false
}
