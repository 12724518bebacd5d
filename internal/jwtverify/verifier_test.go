package jwtverify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

func TestVerifyCauses(t *testing.T) {
	secret := randBytes(32)
	cfg := testConfig(testclock.New(t0))
	cfg.Algorithms = []string{"RS256", "ES256", "HS256"}
	cfg.AuthorizedParties = []string{"web-app"}
	cfg.StaticKeys = []Key{{ID: "rsa-1", Key: rsaSigner().Public()}, {Key: ecSigner().Public()}, {ID: "hs", Key: secret}}
	v := mustVerifier(t, cfg)
	ok := func(kv ...any) jwt.MapClaims { return claimsFor(t0, append([]any{"azp", "web-app"}, kv...)...) }
	rs := rsaSigner()
	tests := []struct {
		name string
		raw  string
		want error // nil: accepted
	}{
		{"valid RS256 by kid", rs.Mint(t, ok()), nil},
		{"valid ES256 without kid", signer{Alg: "ES256", Key: ecKeyOnce()}.Mint(t, ok()), nil},
		{"valid HS256 by kid", signer{KID: "hs", Alg: "HS256", Key: secret}.Mint(t, ok()), nil},
		{"too long", strings.Repeat("a", MaxTokenLen+1), ErrTooLong},
		{"crit header", rs.Mint(t, ok(), "crit", []string{"exp"}), ErrCritHeader},
		{"kid too long", rs.Mint(t, ok(), "kid", strings.Repeat("k", MaxKIDLen+1)), ErrBadKID},
		{"kid empty", rs.Mint(t, ok(), "kid", ""), ErrBadKID},
		{"kid a number", rs.Mint(t, ok(), "kid", 7), ErrBadKID},
		{"unknown kid", signer{KID: "nope", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, ok()), ErrNoKey},
		{"EdDSA not allowed", edSigner().Mint(t, ok()), jwt.ErrTokenSignatureInvalid},
		{"RS256 signed by another key", signer{KID: "rsa-1", Alg: "RS256", Key: rsaKey2Once()}.Mint(t, ok()), jwt.ErrTokenSignatureInvalid},
		{"wrong issuer", rs.Mint(t, ok("iss", "https://evil.example")), jwt.ErrTokenInvalidIssuer},
		{"wrong audience", rs.Mint(t, ok("aud", "api://other")), jwt.ErrTokenInvalidAudience},
		{"azp missing", rs.Mint(t, ok("azp", nil)), ErrAZP},
		{"azp another party", rs.Mint(t, ok("azp", "other-app")), ErrAZP},
		{"no exp", rs.Mint(t, ok("exp", nil)), jwt.ErrTokenRequiredClaimMissing},
		{"nbf in the future", rs.Mint(t, ok("nbf", t0.Add(time.Hour).Unix())), jwt.ErrTokenNotValidYet},
		{"iat in the future", rs.Mint(t, ok("iat", t0.Add(time.Hour).Unix())), jwt.ErrTokenUsedBeforeIssued},
		{"nbf past year 2262", rs.Mint(t, ok("nbf", 1e19)), ErrTimeRange},
		{"negative iat", rs.Mint(t, ok("iat", -1)), ErrTimeRange},
		{"expired only", rs.Mint(t, ok("exp", t0.Add(-time.Hour).Unix())), ErrExpired},
		{"expired within the leeway", rs.Mint(t, ok("exp", t0.Add(-4*time.Second).Unix())), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, _, err := v.Verify(context.Background(), tt.raw)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if wantClaims := tt.want == nil || tt.want == ErrExpired; (claims != nil) != wantClaims {
				t.Errorf("claims returned: got %v, want %v", claims != nil, wantClaims)
			}
		})
	}
}

// A token is reported expired only when its age is its only fault.
func TestVerifyExpiredPlusAnotherFault(t *testing.T) {
	v := mustVerifier(t, func() Config {
		c := testConfig(testclock.New(t0))
		c.StaticKeys = []Key{{Key: rsaSigner().Public()}}
		return c
	}())
	old := t0.Add(-time.Hour).Unix()
	for _, kv := range [][]any{{"aud", "api://other"}, {"iss", "https://evil.example"}, {"nbf", t0.Add(time.Hour).Unix()}} {
		raw := rsaSigner().Mint(t, claimsFor(t0, append([]any{"exp", old}, kv...)...))
		if claims, _, err := v.Verify(context.Background(), raw); err == nil || errors.Is(err, ErrExpired) || claims != nil {
			t.Errorf("expired and %v: got claims %v, err %v; want a refusal that is not ErrExpired", kv[0], claims != nil, err)
		}
	}
}

func TestVerifyTyp(t *testing.T) {
	v := mustVerifier(t, func() Config {
		c := testConfig(testclock.New(t0))
		c.StaticKeys = []Key{{Key: rsaSigner().Public()}}
		return c
	}())
	tests := []struct {
		name, want string
		header     []any
	}{
		{"at+jwt", "at+jwt", []any{"typ", "at+jwt"}},
		{"not a string", "", []any{"typ", 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, typ, err := v.Verify(context.Background(), rsaSigner().Mint(t, claimsFor(t0), tt.header...))
			if err != nil || typ != tt.want {
				t.Fatalf("got %q, %v; want %q", typ, err, tt.want)
			}
		})
	}
}

func TestVerifyIDToken(t *testing.T) {
	cfg := testConfig(testclock.New(t0))
	cfg.StaticKeys = []Key{{Key: rsaSigner().Public()}}
	v := mustVerifier(t, cfg)
	mint := func(kv ...any) string { return rsaSigner().Mint(t, claimsFor(t0, kv...)) }
	tests := []struct {
		name  string
		raw   string
		nonce string
		want  error
	}{
		{"no nonce expected", mint(), "", nil},
		{"nonce matches", mint("nonce", "n-1"), "n-1", nil},
		{"nonce differs", mint("nonce", "n-2"), "n-1", ErrNonce},
		{"nonce missing", mint(), "n-1", ErrNonce},
		{"two audiences without azp", mint("aud", []string{testAudience, "other"}), "", ErrAZP},
		{"two audiences, azp ours", mint("aud", []string{testAudience, "other"}, "azp", testAudience), "", nil},
		{"azp another client", mint("azp", "other"), "", ErrAZP},
		{"expired", mint("exp", t0.Add(-time.Hour).Unix()), "", ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.VerifyIDToken(context.Background(), tt.raw, tt.nonce)
			if !errors.Is(err, tt.want) || (tt.want == nil && (err != nil || claims == nil)) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// A static key is offered only to tokens of its own family, and a token
// naming a key's ID gets that key alone.
func TestStaticKeyFamilies(t *testing.T) {
	cfg := testConfig(testclock.New(t0))
	cfg.StaticKeys = []Key{{ID: "static-rsa", Key: rsaSigner().Public()}, {Key: ecSigner().Public()}}
	v := mustVerifier(t, cfg)
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"EdDSA naming the static RSA key", signer{KID: "static-rsa", Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0)), ErrNoKey},
		{"RS256 naming the static RSA key", signer{KID: "static-rsa", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)), nil},
		{"ES256 with another kid takes the unnamed key", signer{KID: "other", Alg: "ES256", Key: ecKeyOnce()}.Mint(t, claimsFor(t0)), nil},
		{"RS256 with another kid has no key", signer{KID: "other", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)), ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifyErr(v, tt.raw); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFamilies(t *testing.T) {
	tests := []struct {
		alg  string
		key  any
		want string
	}{
		{"RS256", rsaSigner().Public(), FamilyRSA},
		{"PS512", rsaSigner().Public(), FamilyRSA},
		{"ES256", ecSigner().Public(), FamilyEC},
		{"EdDSA", edSigner().Public(), FamilyOKP},
		{"HS256", []byte("secret"), FamilyOct},
		{"none", "a string", ""},
	}
	for _, tt := range tests {
		if got := AlgFamily(tt.alg); got != tt.want {
			t.Errorf("AlgFamily(%s): got %q, want %q", tt.alg, got, tt.want)
		}
		if got := KeyFamily(tt.key); got != tt.want {
			t.Errorf("KeyFamily(%T): got %q, want %q", tt.key, got, tt.want)
		}
	}
}
