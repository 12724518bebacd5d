package jwtverify

import (
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestCheckAccessToken(t *testing.T) {
	clients := []string{"web-app"}
	tests := []struct {
		name        string
		requireType bool
		typ         string
		claims      jwt.MapClaims
		want        error
	}{
		{"at+jwt header", false, "at+jwt", jwt.MapClaims{"nonce": "n"}, nil},
		{"application/AT+JWT header", true, "application/AT+JWT", jwt.MapClaims{}, nil},
		{"type required, plain JWT", true, "JWT", jwt.MapClaims{"scope": "read"}, ErrNotATJWT},
		{"typ claim Bearer", false, "", jwt.MapClaims{"typ": "Bearer", "aud": "web-app"}, nil},
		{"typ claim ID", false, "", jwt.MapClaims{"typ": "ID"}, ErrIDToken},
		{"token_use access", false, "", jwt.MapClaims{"token_use": "access", "nonce": "n"}, nil},
		{"token_use id", false, "", jwt.MapClaims{"token_use": "id"}, ErrIDToken},
		{"nonce", false, "", jwt.MapClaims{"nonce": "n"}, ErrIDToken},
		{"at_hash", false, "", jwt.MapClaims{"at_hash": "h"}, ErrIDToken},
		{"c_hash", false, "", jwt.MapClaims{"c_hash": "h"}, ErrIDToken},
		{"aud names a client", false, "", jwt.MapClaims{"aud": "web-app"}, ErrIDToken},
		{"aud list names a client", false, "", jwt.MapClaims{"aud": []any{"api", "web-app"}}, ErrIDToken},
		{"azp names a client", false, "", jwt.MapClaims{"aud": "api", "azp": "web-app"}, ErrIDToken},
		{"names a client, has scope", false, "", jwt.MapClaims{"aud": "web-app", "scope": "read"}, nil},
		{"names a client, has client_id", false, "", jwt.MapClaims{"aud": "web-app", "client_id": "web-app"}, nil},
		{"names a client, has scp", false, "", jwt.MapClaims{"azp": "web-app", "scp": []any{"read"}}, nil},
		{"another audience", false, "", jwt.MapClaims{"aud": "api"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAccessToken(tt.requireType, tt.typ, tt.claims, clients)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if err := CheckAccessToken(false, "", jwt.MapClaims{"aud": "web-app"}, nil); err != nil {
		t.Errorf("no clients configured: got %v, want nil", err)
	}
}
