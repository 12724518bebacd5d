package oidc

import (
	"errors"
	"net/url"
	"testing"
)

func TestCheckResponseIssuer(t *testing.T) {
	const iss = "https://idp.example"
	tests := []struct {
		name      string
		issuer    string
		supported bool
		q         url.Values
		want      error
	}{
		{"advertised and equal", iss, true, url.Values{"iss": {iss}}, nil},
		{"advertised and another", iss, true, url.Values{"iss": {"https://evil.example"}}, ErrResponseIssuer},
		{"advertised and missing", iss, true, url.Values{}, ErrNoResponseIssuer},
		{"advertised and twice", iss, true, url.Values{"iss": {iss, iss}}, ErrResponseIssuer},
		{"not advertised, absent", iss, false, url.Values{}, nil},
		{"not advertised, present and another", iss, false, url.Values{"iss": {iss + "/"}}, ErrResponseIssuer},
		{"not advertised, present and equal", iss, false, url.Values{"iss": {iss}}, nil},
		{"plain OAuth 2.0", "", false, url.Values{"iss": {"https://any.example"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Document{Issuer: tt.issuer, ResponseIss: tt.supported}
			if got := d.CheckResponseIssuer(tt.q); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
