package oidc

import (
	"net/url"

	"golang.org/x/oauth2"
)

// passThrough are the authorization request parameters a sign-in request
// may pass to the provider, as Auth.js's signIn(provider, options,
// authorizationParams) does.
var passThrough = []string{"login_hint", "prompt", "ui_locales", "max_age", "acr_values"}

// PassThrough returns the authorization URL options for the parameters of
// q that a sign-in request may pass to the provider: login_hint, prompt,
// ui_locales, max_age and acr_values, each when not empty and at most 256
// bytes. A nil q passes none.
func PassThrough(q url.Values) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for _, k := range passThrough {
		if v := q.Get(k); v != "" && len(v) <= 256 {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	return opts
}
