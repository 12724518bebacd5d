package jwtverify

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrStaleWithoutExp: a token without "exp", accepted only while recent,
// was issued too long ago (or has no "iat").
var ErrStaleWithoutExp = errors.New("jwtverify: the token has no exp and its iat is missing or too old")

// VerifyLogoutToken verifies an OpenID Connect back-channel logout token
// as VerifyIDToken verifies an ID token without a nonce. With maxAge above
// zero, a token without "exp" passes when its "iat" is at most maxAge old,
// leeway included (ErrStaleWithoutExp otherwise); without, "exp" is
// required.
func (v *Verifier) VerifyLogoutToken(ctx context.Context, raw string, maxAge time.Duration) (jwt.MapClaims, error) {
	if len(raw) > MaxTokenLen {
		return nil, ErrTooLong
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(raw, claims, v.keyfunc(ctx)); err != nil {
		return nil, err
	}
	validator := v.validator
	if _, hasExp := claims["exp"]; !hasExp && maxAge > 0 {
		iat, err := claims.GetIssuedAt()
		if err != nil || iat == nil || v.cfg.Now().Sub(iat.Time) > maxAge+v.cfg.Leeway {
			return nil, ErrStaleWithoutExp
		}
		validator = v.noExp
	}
	claims, err := v.checkClaims(claims, validator)
	if err != nil {
		return nil, err
	}
	return v.idTokenClaims(claims, "")
}
