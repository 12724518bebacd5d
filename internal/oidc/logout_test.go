package oidc

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func logoutClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": "https://idp.example", "iat": float64(1e9), "jti": "j1", "sid": "s1", "sub": "u1",
		"events": map[string]any{backChannelEvent: map[string]any{}},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestLogoutClaims(t *testing.T) {
	tests := []struct {
		name string
		mod  func(jwt.MapClaims)
		want Logout // zero for an error
	}{
		{"valid", nil, Logout{SID: "s1", Sub: "u1", JTI: "j1"}},
		{"sid alone", func(c jwt.MapClaims) { delete(c, "sub") }, Logout{SID: "s1", JTI: "j1"}},
		{"sub alone", func(c jwt.MapClaims) { delete(c, "sid") }, Logout{Sub: "u1", JTI: "j1"}},
		{"no iat", func(c jwt.MapClaims) { delete(c, "iat") }, Logout{}},
		{"lives a week", func(c jwt.MapClaims) { c["exp"] = float64(1e9 + 7*24*3600) }, Logout{SID: "s1", Sub: "u1", JTI: "j1"}},
		{"lives longer than a week", func(c jwt.MapClaims) { c["exp"] = float64(1e9 + 7*24*3600 + 1) }, Logout{}},
		{"no events", func(c jwt.MapClaims) { delete(c, "events") }, Logout{}},
		{"another event", func(c jwt.MapClaims) { c["events"] = map[string]any{"x": map[string]any{}} }, Logout{}},
		{"event not an object", func(c jwt.MapClaims) { c["events"] = map[string]any{backChannelEvent: "x"} }, Logout{}},
		{"nonce", func(c jwt.MapClaims) { c["nonce"] = "n" }, Logout{}},
		{"neither sid nor sub", func(c jwt.MapClaims) { delete(c, "sid"); delete(c, "sub") }, Logout{}},
		{"no jti", func(c jwt.MapClaims) { delete(c, "jti") }, Logout{}},
		{"jti not a string", func(c jwt.MapClaims) { c["jti"] = 7 }, Logout{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LogoutClaims(logoutClaims(tt.mod))
			if (err != nil) != (tt.want == Logout{}) || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestJTIMemory(t *testing.T) {
	now := time.Unix(1e9, 0)
	tests := []struct {
		name string
		exp  any // nil: no exp claim
		iat  time.Time
		want time.Duration
	}{
		{"no exp, issued now", nil, now, 2*time.Minute + 5*time.Second},
		{"no exp, issued 90 s ago", nil, now.Add(-90 * time.Second), time.Minute},
		{"no exp, no iat", nil, time.Time{}, time.Minute},
		{"soon", float64(now.Add(10 * time.Second).Unix()), now, time.Minute},
		{"in an hour", float64(now.Add(time.Hour).Unix()), now, time.Hour + 5*time.Second},
		{"in a year", float64(now.Add(365 * 24 * time.Hour).Unix()), now, 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := logoutClaims(func(c jwt.MapClaims) {
				if tt.exp != nil {
					c["exp"] = tt.exp
				}
				if delete(c, "iat"); !tt.iat.IsZero() {
					c["iat"] = float64(tt.iat.Unix())
				}
			})
			if got := JTIMemory(c, 5*time.Second, now); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnverifiedIssuer(t *testing.T) {
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, logoutClaims(nil)).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	noIss, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u"}).SignedString([]byte("k"))
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{raw, "https://idp.example", true},
		{noIss, "", true},
		{"not.a.jwt", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := UnverifiedIssuer(tt.raw)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("UnverifiedIssuer(%.20q) = %q, %v; want %q, ok %v", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}

func TestNoExpMaxAge(t *testing.T) {
	if got := NoExpMaxAge(true); got != LogoutTokenMaxAge {
		t.Errorf("allowed: got %v, want %v", got, LogoutTokenMaxAge)
	}
	if got := NoExpMaxAge(false); got != 0 {
		t.Errorf("not allowed: got %v, want 0", got)
	}
}
