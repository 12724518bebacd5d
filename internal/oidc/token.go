package oidc

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// ErrNoAccessToken means a token response held no access token.
var ErrNoAccessToken = errors.New("the token response holds no access token")

// RedeemRefreshToken sends refreshToken to conf's token endpoint (the
// refresh_token grant) and returns the tokens it answered, unchecked: pass
// them to Refreshed.
func RedeemRefreshToken(ctx context.Context, conf *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// Refreshed checks tok, the answer to a refresh of refreshToken: it must
// hold an access token (ErrNoAccessToken otherwise). A provider that does
// not rotate sends no refresh token: the result is then a copy of tok
// carrying refreshToken, and tok is left as it was.
func Refreshed(tok *oauth2.Token, refreshToken string) (*oauth2.Token, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	if tok.RefreshToken == "" {
		c := *tok
		c.RefreshToken = refreshToken
		return &c, nil
	}
	return tok, nil
}

// GrantRefused reports whether err is a token endpoint's refusal of the
// grant (OAuth error "invalid_grant"): the code or refresh token sent was
// revoked, expired or already used.
func GrantRefused(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// ClientError reports whether err is a token endpoint's answer with a 4xx
// status: a refusal of what the client sent, not a failure of the server.
func ClientError(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500
}

// RedactTokenError drops the response body that an *oauth2.RetrieveError
// quotes in its message, which may echo credentials, keeping the status
// and the OAuth error code. Other errors are returned as they are.
func RedactTokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := "no response"
	if re.Response != nil {
		status = re.Response.Status
	}
	if re.ErrorCode != "" {
		return fmt.Errorf("token endpoint: %s: %s", status, re.ErrorCode)
	}
	return fmt.Errorf("token endpoint: %s", status)
}

// ErrGrantRefused: the token endpoint refused the refresh token (OAuth
// error "invalid_grant"): it was revoked, expired or already used.
var ErrGrantRefused = errors.New("the token endpoint refused the grant")

// RefreshFunc exchanges current's refresh token for new tokens with the
// provider conf describes.
type RefreshFunc func(ctx context.Context, conf *oauth2.Config, current *oauth2.Token) (*oauth2.Token, error)

// Refresh exchanges current's refresh token through exchange or, when it
// is nil, at conf's token endpoint (RedeemRefreshToken), and checks the
// answer (Refreshed). A refusal of the grant is ErrGrantRefused; other
// failures of the token endpoint lose its response body (RedactTokenError).
func Refresh(ctx context.Context, conf *oauth2.Config, current *oauth2.Token, exchange RefreshFunc) (*oauth2.Token, error) {
	var tok *oauth2.Token
	var err error
	if exchange != nil {
		tok, err = exchange(ctx, conf, current)
	} else {
		tok, err = RedeemRefreshToken(ctx, conf, current.RefreshToken)
	}
	switch {
	case GrantRefused(err):
		return nil, ErrGrantRefused
	case err != nil:
		return nil, RedactTokenError(err)
	}
	return Refreshed(tok, current.RefreshToken)
}
