package oidc

import (
	"errors"
	"net/url"
)

// Refusals of an authorization response by CheckResponseIssuer.
var (
	// ErrResponseIssuer: the response names another issuer than the
	// provider the request was sent to (a mix-up attack, RFC 9207).
	ErrResponseIssuer = errors.New("the authorization response comes from another issuer than this provider's (iss mismatch)")
	// ErrNoResponseIssuer: the provider says it sends "iss" and did not.
	ErrNoResponseIssuer = errors.New("the authorization response carries no iss, which this provider always sends")
)

// CheckResponseIssuer checks the "iss" parameter of an authorization
// response q against d's issuer (RFC 9207, section 2.4): when present it
// must be exactly the issuer, and when d says the provider sends it
// (authorization_response_iss_parameter_supported) it must be present.
// A provider without an issuer (plain OAuth 2.0) has nothing to compare.
func (d *Document) CheckResponseIssuer(q url.Values) error {
	iss, has := q["iss"]
	switch {
	case d.Issuer == "":
		return nil
	case has && (len(iss) != 1 || iss[0] != d.Issuer):
		return ErrResponseIssuer
	case !has && d.ResponseIss:
		return ErrNoResponseIssuer
	}
	return nil
}
