package oidc

import "testing"

func TestCheckProvider(t *testing.T) {
	ok := Endpoints{Issuer: "https://idp.example"}
	tests := []struct {
		name      string
		id        string
		clientID  string
		e         Endpoints
		userInfo  string
		algs      []string
		wantField string
	}{
		{"valid", "google", "client", ok, "", []string{"RS256", "ES256", "EdDSA"}, ""},
		{"userinfo always", "a_b-1", "client", ok, UserInfoAlways, nil, ""},
		{"empty id", "", "client", ok, "", nil, "ID"},
		{"upper-case id", "Google", "client", ok, "", nil, "ID"},
		{"long id", "abcdefghijklmnopqrstuvwxyz0123456", "client", ok, "", nil, "ID"},
		{"id before client", "Bad", "", ok, "", nil, "ID"},
		{"no client", "google", "", ok, "", nil, "ClientID"},
		{"no issuer nor endpoints", "google", "client", Endpoints{}, "bad", nil, "Issuer"},
		{"userinfo mode", "google", "client", ok, "sometimes", []string{"HS256"}, "UserInfo"},
		{"hmac", "google", "client", ok, "", []string{"RS256", "HS256"}, "IDTokenAlgorithms"},
		{"unknown alg", "google", "client", ok, "", []string{"none"}, "IDTokenAlgorithms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := CheckProvider(tt.id, tt.clientID, tt.e, tt.userInfo, tt.algs)
			got := ""
			if fe != nil {
				got = fe.Field
			}
			if got != tt.wantField {
				t.Fatalf("got field %q (%v), want %q", got, fe, tt.wantField)
			}
		})
	}
}
