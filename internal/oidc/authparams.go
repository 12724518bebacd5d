package oidc

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// passThrough are the authorization request parameters a sign-in request
// may pass to the provider, as Auth.js's signIn(provider, options,
// authorizationParams) does.
var passThrough = []string{"login_hint", "prompt", "ui_locales", "max_age", "acr_values"}

// ScopeOffline is the scope that asks for a refresh token (OpenID Connect
// Core 11).
const ScopeOffline = "offline_access"

// googleIssuer is Google's issuer, which refuses the offline_access scope
// and grants a refresh token for access_type=offline instead.
const googleIssuer = "https://accounts.google.com"

// PassThrough returns the authorization URL options for the parameters of
// q that a sign-in request may pass to the provider: login_hint, prompt,
// ui_locales, max_age and acr_values, each when not empty and at most 256
// bytes. A nil q passes none.
func PassThrough(q url.Values) []oauth2.AuthCodeOption {
	return options(passValues(q))
}

// passValues are the parameters of q that PassThrough passes.
func passValues(q url.Values) url.Values {
	v := url.Values{}
	for _, k := range passThrough {
		if x := q.Get(k); x != "" && len(x) <= 256 {
			v.Set(k, x)
		}
	}
	return v
}

// options turns v into authorization URL options.
func options(v url.Values) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for _, k := range slices.Sorted(maps.Keys(v)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, v.Get(k)))
	}
	return opts
}

// WantsOffline reports whether scopes ask for a refresh token.
func WantsOffline(scopes []string) bool { return slices.Contains(scopes, ScopeOffline) }

// AuthParams returns the scopes to send to the provider of issuer and the
// authorization URL options of a sign-in: PassThrough(q) and, when scopes
// ask for offline access, what the provider needs to grant it: prompt
// "consent" added to the request's (unless it is "none"), as OpenID Connect
// Core 11 requires; and for Google access_type=offline in place of the
// offline_access scope.
func AuthParams(issuer string, scopes []string, q url.Values) ([]string, []oauth2.AuthCodeOption) {
	v := passValues(q)
	if !WantsOffline(scopes) {
		return scopes, options(v)
	}
	if issuer == googleIssuer {
		scopes = slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == ScopeOffline })
		v.Set("access_type", "offline")
	}
	if p := v.Get("prompt"); p != "none" && !slices.Contains(strings.Fields(p), "consent") {
		v.Set("prompt", strings.TrimSpace(p+" consent"))
	}
	return scopes, options(v)
}
