package oidc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/safeurl"
	"github.com/sessionkit/sessionkit/observe"
)

// ClientAuth is how a client authenticates at a provider's token,
// revocation and introspection endpoints: HTTP Basic (the RFC 6749, 2.3.1
// encoding) unless Style is oauth2.AuthStyleInParams, then the form.
type ClientAuth struct {
	ID, Secret string
	Style      oauth2.AuthStyle
}

// ClientAuthOf is the authentication conf uses at its token endpoint.
func ClientAuthOf(conf *oauth2.Config) ClientAuth {
	return ClientAuth{ID: conf.ClientID, Secret: conf.ClientSecret, Style: conf.Endpoint.AuthStyle}
}

// post sends form, authenticated by a, to endpoint; the caller closes the
// body of the response. Its errors name the endpoint without its query
// and never quote the form.
func (a ClientAuth) post(ctx context.Context, client *http.Client, endpoint string, form url.Values) (*http.Response, error) {
	if a.Style == oauth2.AuthStyleInParams {
		form.Set("client_id", a.ID)
		if a.Secret != "" {
			form.Set("client_secret", a.Secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("invalid endpoint URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.Style != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(a.ID), url.QueryEscape(a.Secret))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, errors.New(safeurl.RedactErr(err, endpoint))
	}
	return resp, nil
}

// Revoke asks the revocation endpoint (RFC 7009) to revoke the refresh
// token. A provider that answers 200 has revoked it, or never knew it.
func Revoke(ctx context.Context, client *http.Client, endpoint string, a ClientAuth, refreshToken string) error {
	ctx = observe.WithCall(ctx, observe.CallRevocation)
	resp, err := a.post(ctx, client, endpoint, url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}})
	if err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation: %s answered %s", safeurl.Redact(endpoint), resp.Status)
	}
	return nil
}

// Introspection is an introspection endpoint's answer (RFC 7662, 2.2).
type Introspection struct {
	Active bool
	// Claims are the answer's members, numbers as float64 as in a JWT's
	// claims; nil when not active.
	Claims map[string]any
	// Expiry is the "exp" member; zero without one.
	Expiry time.Time
}

// Introspect asks the introspection endpoint (RFC 7662) about token.
func Introspect(ctx context.Context, client *http.Client, endpoint string, a ClientAuth, token string) (Introspection, error) {
	ctx = observe.WithCall(ctx, observe.CallIntrospection)
	resp, err := a.post(ctx, client, endpoint, url.Values{"token": {token}, "token_type_hint": {"access_token"}})
	if err != nil {
		return Introspection{}, fmt.Errorf("introspection: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Introspection{}, fmt.Errorf("introspection: %s answered %s", safeurl.Redact(endpoint), resp.Status)
	}
	var claims map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&claims); err != nil {
		return Introspection{}, errors.New("introspection: malformed answer")
	}
	if active, _ := claims["active"].(bool); !active {
		return Introspection{}, nil
	}
	delete(claims, "active")
	in := Introspection{Active: true, Claims: claims}
	if exp, ok := claims["exp"].(float64); ok {
		in.Expiry = time.Unix(int64(exp), 0).UTC()
	}
	return in, nil
}

// EndSession is an RP-initiated logout request (OpenID Connect
// RP-Initiated Logout 1.0, section 2).
type EndSession struct {
	IDTokenHint, ClientID, PostLogoutRedirectURI string
}

// URL is the end-session endpoint's URL carrying e's parameters and a new
// random state; parameters of the endpoint's own query are kept. It is ""
// for an empty or invalid endpoint.
func (e EndSession) URL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil {
		return ""
	}
	q := u.Query()
	for k, v := range map[string]string{"id_token_hint": e.IDTokenHint, "client_id": e.ClientID,
		"post_logout_redirect_uri": e.PostLogoutRedirectURI, "state": rand.Text()} {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
