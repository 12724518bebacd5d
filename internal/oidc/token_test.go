package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestRedeemRefreshToken(t *testing.T) {
	tests := []struct {
		name, body, wantAccess, wantRefresh string
		status                              int
		refused                             bool
	}{
		{name: "rotates", status: 200, body: `{"access_token":"a2","token_type":"Bearer","refresh_token":"r2","expires_in":60}`, wantAccess: "a2", wantRefresh: "r2"},
		{name: "keeps", status: 200, body: `{"access_token":"a2","token_type":"Bearer","expires_in":60}`, wantAccess: "a2", wantRefresh: "r1"},
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant","error_description":"secret-echo"}`, refused: true},
		{name: "server error", status: 500, body: `secret-echo`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				sent = r.PostForm.Get("grant_type") + " " + r.PostForm.Get("refresh_token")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			conf := &oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
			tok, err := RedeemRefreshToken(context.Background(), conf, "r1")
			if sent != "refresh_token r1" {
				t.Fatalf("sent %q, want the refresh_token grant of r1", sent)
			}
			if err == nil {
				tok, err = Refreshed(tok, "r1")
			}
			switch {
			case tt.refused || tt.status != 200:
				if err == nil || GrantRefused(err) != tt.refused {
					t.Fatalf("got %v, want an error with GrantRefused %v", err, tt.refused)
				}
				if red := RedactTokenError(err); strings.Contains(red.Error(), "secret-echo") {
					t.Fatalf("the redacted error quotes the body: %v", red)
				}
			case err != nil || tok.AccessToken != tt.wantAccess || tok.RefreshToken != tt.wantRefresh:
				t.Fatalf("got %+v, %v; want access %q refresh %q", tok, err, tt.wantAccess, tt.wantRefresh)
			}
		})
	}
}

func TestRefreshedLeavesTheAnswerAlone(t *testing.T) {
	tok := &oauth2.Token{AccessToken: "a"}
	got, err := Refreshed(tok, "r1")
	if err != nil || got.RefreshToken != "r1" || tok.RefreshToken != "" {
		t.Fatalf("got %+v, %v, answer %+v; want a copy carrying r1", got, err, tok)
	}
	for _, tok := range []*oauth2.Token{nil, {RefreshToken: "r2"}} {
		if _, err := Refreshed(tok, "r1"); !errors.Is(err, ErrNoAccessToken) {
			t.Fatalf("%+v: got %v, want ErrNoAccessToken", tok, err)
		}
	}
}

func TestRedactTokenError(t *testing.T) {
	resp := &http.Response{Status: "400 Bad Request", StatusCode: 400}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"code", &oauth2.RetrieveError{Response: resp, Body: []byte("secret"), ErrorCode: "invalid_client"}, "token endpoint: 400 Bad Request: invalid_client"},
		{"no code", &oauth2.RetrieveError{Response: resp, Body: []byte("secret")}, "token endpoint: 400 Bad Request"},
		{"no response", &oauth2.RetrieveError{Body: []byte("secret")}, "token endpoint: no response"},
		{"wrapped", fmt.Errorf("x: %w", &oauth2.RetrieveError{Response: resp, Body: []byte("secret")}), "token endpoint: 400 Bad Request"},
		{"other", errors.New("dial tcp: refused"), "dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactTokenError(tt.err).Error(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGrantRefused(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&oauth2.RetrieveError{ErrorCode: "invalid_grant"}, true},
		{fmt.Errorf("x: %w", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}), true},
		{&oauth2.RetrieveError{ErrorCode: "invalid_client"}, false},
		{errors.New("invalid_grant"), false},
	}
	for _, tt := range tests {
		if got := GrantRefused(tt.err); got != tt.want {
			t.Errorf("GrantRefused(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRefresh(t *testing.T) {
	refused := &oauth2.RetrieveError{Response: &http.Response{Status: "400 Bad Request"}, Body: []byte("secret-echo"), ErrorCode: "invalid_grant"}
	failed := &oauth2.RetrieveError{Response: &http.Response{Status: "503 Service Unavailable"}, Body: []byte("secret-echo")}
	current := &oauth2.Token{AccessToken: "a1", RefreshToken: "r1"}
	tests := []struct {
		name        string
		tok         *oauth2.Token
		err         error
		wantRefresh string
		wantErr     error
	}{
		{name: "rotated", tok: &oauth2.Token{AccessToken: "a2", RefreshToken: "r2"}, wantRefresh: "r2"},
		{name: "not rotated", tok: &oauth2.Token{AccessToken: "a2"}, wantRefresh: "r1"},
		{name: "no access token", tok: &oauth2.Token{RefreshToken: "r2"}, wantErr: ErrNoAccessToken},
		{name: "refused", err: refused, wantErr: ErrGrantRefused},
		{name: "failed", err: failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *oauth2.Token
			tok, err := Refresh(context.Background(), &oauth2.Config{}, current, func(_ context.Context, _ *oauth2.Config, cur *oauth2.Token) (*oauth2.Token, error) {
				got = cur
				return tt.tok, tt.err
			})
			if got != current {
				t.Fatalf("the exchange got %v, want the current token", got)
			}
			switch {
			case tt.err == nil && tt.wantErr == nil:
				if err != nil || tok.RefreshToken != tt.wantRefresh {
					t.Fatalf("got %+v, %v; want refresh token %q", tok, err, tt.wantRefresh)
				}
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			case err == nil || strings.Contains(err.Error(), "secret-echo"):
				t.Fatalf("got %v, want an error without the response body", err)
			}
		})
	}
}

func TestClientError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"400", &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusBadRequest}}, true},
		{"401 wrapped", fmt.Errorf("x: %w", &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusUnauthorized}}), true},
		{"500", &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusInternalServerError}}, false},
		{"no response", &oauth2.RetrieveError{}, false},
		{"another error", errors.New("dial"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClientError(tt.err); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
