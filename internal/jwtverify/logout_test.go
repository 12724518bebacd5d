package jwtverify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

func TestVerifyLogoutToken(t *testing.T) {
	cfg := testConfig(testclock.New(t0))
	cfg.StaticKeys = []Key{{ID: "rsa-1", Key: rsaSigner().Public()}}
	v := mustVerifier(t, cfg)
	rs := rsaSigner()
	const maxAge = 2 * time.Minute
	tests := []struct {
		name   string
		claims jwt.MapClaims
		maxAge time.Duration
		want   error // nil: accepted
	}{
		{"with exp", claimsFor(t0), 0, nil},
		{"with exp, maxAge set", claimsFor(t0), maxAge, nil},
		{"expired exp, maxAge set", claimsFor(t0, "exp", t0.Add(-time.Hour).Unix(), "iat", t0.Add(-2*time.Hour).Unix()), maxAge, ErrExpired},
		{"no exp, not allowed", claimsFor(t0, "exp", nil), 0, jwt.ErrTokenRequiredClaimMissing},
		{"no exp, recent iat", claimsFor(t0, "exp", nil, "iat", t0.Add(-time.Minute).Unix()), maxAge, nil},
		{"no exp, iat at the bound with leeway", claimsFor(t0, "exp", nil, "iat", t0.Add(-maxAge-5*time.Second).Unix()), maxAge, nil},
		{"no exp, old iat", claimsFor(t0, "exp", nil, "iat", t0.Add(-maxAge-6*time.Second).Unix()), maxAge, ErrStaleWithoutExp},
		{"no exp, no iat", claimsFor(t0, "exp", nil, "iat", nil), maxAge, ErrStaleWithoutExp},
		{"no exp, iat in the future", claimsFor(t0, "exp", nil, "iat", t0.Add(time.Hour).Unix()), maxAge, jwt.ErrTokenUsedBeforeIssued},
		{"no exp, wrong issuer", claimsFor(t0, "exp", nil, "iss", "https://evil.example"), maxAge, jwt.ErrTokenInvalidIssuer},
		{"no exp, two audiences without azp", claimsFor(t0, "exp", nil, "aud", []string{testAudience, "x"}), maxAge, ErrAZP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.VerifyLogoutToken(context.Background(), rs.Mint(t, tt.claims), tt.maxAge)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if (claims != nil) != (tt.want == nil) {
				t.Errorf("claims returned: got %v, want %v", claims != nil, tt.want == nil)
			}
		})
	}
	forged := signer{KID: "rsa-1", Alg: "RS256", Key: rsaKey2Once()}.Mint(t, claimsFor(t0, "exp", nil))
	if _, err := v.VerifyLogoutToken(context.Background(), forged, maxAge); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("forged token without exp: got %v, want %v", err, jwt.ErrTokenSignatureInvalid)
	}
}
