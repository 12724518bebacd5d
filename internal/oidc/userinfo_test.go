package oidc

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestNeedsUserInfo(t *testing.T) {
	sign := func(c jwt.MapClaims) string {
		raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	full := sign(jwt.MapClaims{"sub": "u1", "name": "Ada", "email": "ada@example.com"})
	subOnly := sign(jwt.MapClaims{"sub": "u1"})
	noEmail := sign(jwt.MapClaims{"sub": "u1", "name": "Ada"})
	all := []string{"openid", "profile", "email"}
	tests := []struct {
		name     string
		mode     string
		idToken  string
		scopes   []string
		wantNeed bool
		wantSub  string
	}{
		{"no ID token", "", "", all, true, ""},
		{"no ID token, never", UserInfoNever, "", all, false, ""},
		{"profile claims present", "", full, all, false, "u1"},
		{"sub only", "", subOnly, all, true, "u1"},
		{"email missing, asked for", "", noEmail, all, true, "u1"},
		{"email missing, not asked for", "", noEmail, []string{"openid", "profile"}, false, "u1"},
		{"sub only, no profile scopes", "", subOnly, []string{"openid"}, false, "u1"},
		{"always", UserInfoAlways, full, all, true, "u1"},
		{"never", UserInfoNever, subOnly, all, false, "u1"},
		{"malformed ID token", "", "not.a.jwt", all, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			need, sub := NeedsUserInfo(tt.mode, tt.idToken, tt.scopes)
			if need != tt.wantNeed || sub != tt.wantSub {
				t.Fatalf("got %v, %q; want %v, %q", need, sub, tt.wantNeed, tt.wantSub)
			}
		})
	}
	for _, m := range []string{"", UserInfoAlways, UserInfoNever} {
		if !ValidUserInfoMode(m) {
			t.Errorf("ValidUserInfoMode(%q) = false, want true", m)
		}
	}
	if ValidUserInfoMode("sometimes") {
		t.Error(`ValidUserInfoMode("sometimes") = true, want false`)
	}
}
