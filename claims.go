package sessionkit

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
)

var errMalformedAuthz = jwtverify.ErrMalformedHeader

// tokenErr wraps an error of jwtverify in ErrInvalidToken, and
// ErrTokenExpired when the token's age is its only fault.
func tokenErr(err error) error {
	if errors.Is(err, jwtverify.ErrExpired) {
		return fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenExpired)
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}

// bearerToken returns the token of an "Authorization: Bearer" header, ""
// without one; an error wraps ErrInvalidToken.
func bearerToken(r *http.Request) (string, error) {
	tok, err := jwtverify.BearerToken(r)
	if err != nil {
		return "", tokenErr(err)
	}
	return tok, nil
}

// sessionFromClaims builds the snapshot of a bearer (or JWT-cookie) session.
func sessionFromClaims(claims jwt.MapClaims, raw string, src Source, now time.Time) *Session {
	// One allocation for the session and its claims box. The claims are
	// shared with the cache entry, read-only: Claims copies them.
	b := &sessionWithClaims{Session: Session{
		Source:       src,
		Status:       StatusActive,
		ID:           jwtverify.ClaimString(claims, "sid"),
		SignIn:       SignIn{User: userFromClaims(claims), AccessToken: raw, TokenType: "Bearer"},
		JWT:          raw,
		LastActiveAt: now,
	}}
	b.claims.Share(claims)
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
	s.ActiveOrganizationID = jwtverify.ClaimString(claims, "org_id")
	return s
}

// userFromClaims reads the standard OpenID Connect profile claims.
func userFromClaims(c jwt.MapClaims) User {
	return User{
		ID:            jwtverify.ClaimString(c, "sub"),
		Name:          jwtverify.ClaimString(c, "name"),
		Email:         jwtverify.ClaimString(c, "email"),
		Image:         jwtverify.ClaimString(c, "picture"),
		FirstName:     jwtverify.ClaimString(c, "given_name"),
		LastName:      jwtverify.ClaimString(c, "family_name"),
		Username:      jwtverify.ClaimString(c, "preferred_username"),
		EmailVerified: jwtverify.ClaimBool(c, "email_verified"),
		PhoneNumber:   jwtverify.ClaimString(c, "phone_number"),
		PhoneVerified: jwtverify.ClaimBool(c, "phone_number_verified"),
	}
}
