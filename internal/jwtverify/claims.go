package jwtverify

import (
	"context"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyAccessToken verifies raw as Verify does and checks that it may
// stand for an access token (CheckAccessToken); header adds the check of a
// token sent in an Authorization header (CheckB64Token). The claims are nil
// when the token is refused; with claims, err is nil or wraps ErrExpired,
// the token's age being its only fault.
func (v *Verifier) VerifyAccessToken(ctx context.Context, raw string, header, requireType bool, clientIDs []string) (jwt.MapClaims, error) {
	if header {
		if err := CheckB64Token(raw); err != nil {
			return nil, err
		}
	}
	claims, typ, err := v.Verify(ctx, raw)
	if claims == nil {
		return nil, err
	}
	if aerr := CheckAccessToken(requireType, typ, claims, clientIDs); aerr != nil {
		return nil, aerr
	}
	return claims, err
}

// ClaimString returns claim k of c when it is a string, "" otherwise.
func ClaimString(c jwt.MapClaims, k string) string {
	s, _ := c[k].(string)
	return s
}

// ClaimBool returns claim k of c when it is true or "true" (some providers
// send booleans as strings).
func ClaimBool(c jwt.MapClaims, k string) bool {
	switch v := c[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
