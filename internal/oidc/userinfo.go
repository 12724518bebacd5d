package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/safeurl"
	"github.com/sessionkit/sessionkit/observe"
)

// Errors of FetchUserInfo's answer.
var (
	// ErrNoSubject: the userinfo answer names no user.
	ErrNoSubject = errors.New("userinfo: no sub or id")
	// ErrSubjectMismatch: the userinfo answer names another user than the
	// ID token.
	ErrSubjectMismatch = errors.New("userinfo: sub differs from the ID token's")
)

// The values of a provider's userinfo mode besides "" (when claims are
// missing).
const (
	UserInfoAlways = "always"
	UserInfoNever  = "never"
)

// ValidUserInfoMode reports whether mode is "", UserInfoAlways or
// UserInfoNever.
func ValidUserInfoMode(mode string) bool {
	return mode == "" || mode == UserInfoAlways || mode == UserInfoNever
}

// NeedsUserInfo reports whether a sign-in should read the userinfo
// endpoint, in mode, when its token response holds idToken ("" for none),
// read here unverified (the sign-in verifies it), and returns its "sub",
// which the userinfo answer must name. Mode "" reads it without an ID
// token, or when the ID token lacks a claim the scopes ask for: "name" for
// "profile", "email" for "email".
func NeedsUserInfo(mode, idToken string, scopes []string) (need bool, sub string) {
	if idToken == "" {
		return mode != UserInfoNever, ""
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		return false, ""
	}
	sub, _ = claims["sub"].(string)
	switch mode {
	case UserInfoAlways:
		return true, sub
	case UserInfoNever:
		return false, sub
	}
	for scope, claim := range map[string]string{"profile": "name", "email": "email"} {
		if v, _ := claims[claim].(string); v == "" && slices.Contains(scopes, scope) {
			return true, sub
		}
	}
	return false, sub
}

// FetchUserInfo reads a userinfo endpoint with tok. It returns the claims
// (numbers as json.Number) and the user's ID: "sub", or else "id" (a
// string or an integer), as plain OAuth 2.0 providers name it. With
// wantSub set, the answer's "sub" must equal it (OpenID Connect Core
// 5.3.2): ErrSubjectMismatch otherwise.
func FetchUserInfo(ctx context.Context, client *http.Client, endpoint string, tok *oauth2.Token, wantSub string) (claims map[string]any, subject string, err error) {
	req, err := http.NewRequestWithContext(observe.WithCall(ctx, observe.CallUserInfo), http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("userinfo: %s", safeurl.RedactErr(err, endpoint))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("userinfo: %s answered %s", safeurl.Redact(endpoint), resp.Status)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, "", fmt.Errorf("userinfo: malformed: %w", err)
	}
	if subject = userID(claims); subject == "" {
		return nil, "", ErrNoSubject
	}
	if sub, _ := claims["sub"].(string); wantSub != "" && sub != wantSub {
		return nil, "", ErrSubjectMismatch
	}
	return claims, subject, nil
}

// userID is "sub", or else "id" when it is a string or an integer.
func userID(claims map[string]any) string {
	if sub, _ := claims["sub"].(string); sub != "" {
		return sub
	}
	switch v := claims["id"].(type) {
	case string:
		return v
	case json.Number:
		if _, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return v.String()
		}
	}
	return ""
}
