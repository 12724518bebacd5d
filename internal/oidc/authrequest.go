package oidc

import (
	"crypto/rand"

	"golang.org/x/oauth2"
)

// StateLen is the length of an AuthRequest's State.
const StateLen = 26 // rand.Text()'s length

// AuthRequest holds the secrets of one authorization request: the state
// that binds the callback to the browser, the nonce that binds the ID
// token to the request, and the PKCE verifier that binds the code to the
// client. Nonce and Verifier are empty when not used.
type AuthRequest struct {
	State    string
	Nonce    string
	Verifier string
}

// NewAuthRequest returns fresh random secrets: a state always, a PKCE
// verifier when pkce is set, a nonce when nonce is set.
func NewAuthRequest(pkce, nonce bool) AuthRequest {
	a := AuthRequest{State: rand.Text()}
	if pkce {
		a.Verifier = oauth2.GenerateVerifier()
	}
	if nonce {
		a.Nonce = rand.Text()
	}
	return a
}

// Options are the authorization URL's parameters for a: the S256 code
// challenge and the nonce, when set.
func (a AuthRequest) Options() []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	if a.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(a.Verifier))
	}
	if a.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", a.Nonce))
	}
	return opts
}

// ExchangeOptions are the token request's parameters for the verifier of
// an authorization request: none when it used no PKCE.
func ExchangeOptions(verifier string) []oauth2.AuthCodeOption {
	if verifier == "" {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
}
