package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/safeurl"
)

// ErrNoSubject: the userinfo answer names no user.
var ErrNoSubject = errors.New("userinfo: no sub or id")

// FetchUserInfo reads a userinfo endpoint with tok. It returns the claims
// (numbers as json.Number) and the user's ID: "sub", or else "id" (a
// string or an integer), as plain OAuth 2.0 providers name it.
func FetchUserInfo(ctx context.Context, client *http.Client, endpoint string, tok *oauth2.Token) (claims map[string]any, subject string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
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
