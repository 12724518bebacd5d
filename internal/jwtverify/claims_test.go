package jwtverify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

func TestVerifyAccessToken(t *testing.T) {
	cfg := testConfig(testclock.New(t0))
	cfg.StaticKeys = []Key{{Key: rsaSigner().Public()}}
	v := mustVerifier(t, cfg)
	mint := func(kv ...any) string { return rsaSigner().Mint(t, claimsFor(t0, kv...)) }
	tests := []struct {
		name        string
		raw         string
		header      bool
		requireType bool
		want        error
		wantClaims  bool
	}{
		{"valid", mint(), true, false, nil, true},
		{"expired", mint("exp", t0.Add(-time.Hour).Unix()), false, false, ErrExpired, true},
		{"an ID token", mint("nonce", "n"), false, false, ErrIDToken, false},
		{"an ID token of our client", mint("azp", "web"), false, false, ErrIDToken, false},
		{"expired ID token", mint("nonce", "n", "exp", t0.Add(-time.Hour).Unix()), false, false, ErrIDToken, false},
		{"no RFC 9068 typ", mint(), false, true, ErrNotATJWT, false},
		{"malformed for a header", "a b.c", true, false, ErrMalformedHeader, false},
		{"forged", mint() + "x", false, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.VerifyAccessToken(context.Background(), tt.raw, tt.header, tt.requireType, []string{"web"})
			if (claims != nil) != tt.wantClaims || (tt.want != nil && !errors.Is(err, tt.want)) || (tt.want == nil && tt.wantClaims != (err == nil)) {
				t.Fatalf("got %v, %v; want claims %v and %v", claims, err, tt.wantClaims, tt.want)
			}
		})
	}
}

func TestClaimReaders(t *testing.T) {
	c := jwt.MapClaims{"s": "x", "n": 1.0, "t": true, "ts": "true", "f": "false"}
	if ClaimString(c, "s") != "x" || ClaimString(c, "n") != "" || ClaimString(c, "missing") != "" {
		t.Fatal("ClaimString")
	}
	for k, want := range map[string]bool{"t": true, "ts": true, "f": false, "s": false, "missing": false} {
		if got := ClaimBool(c, k); got != want {
			t.Errorf("ClaimBool(%q): got %v, want %v", k, got, want)
		}
	}
}
