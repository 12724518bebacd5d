package sessionkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestHandlerSessionJSON(t *testing.T) {
	for _, expose := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "ExposeAccessToken"}[expose], func(t *testing.T) {
			m, h := handlerManager(t, func(c *Config) { c.ExposeAccessToken = expose })
			rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/session", nil))
			if rec.Code != http.StatusOK || rec.Body.String() != "{}\n" {
				t.Fatalf("signed out: got %d %q, want 200 {}", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			cookies := signInCookies(t, m, SignInParams{
				Provider:       "oidc",
				Token:          &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Expiry: t0.Add(time.Hour)},
				User:           &User{ID: "u1", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Image: "https://img.example/a.png"},
				OrganizationID: "org_1",
			})
			rec = serve(h, requestWith("https://app.example/api/auth/session", cookies))
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"user":                 map[string]any{"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com", "image": "https://img.example/a.png"},
				"expires":              "2026-12-23T12:00:00.000Z",
				"status":               "active",
				"provider":             "oidc",
				"accessTokenExpiresAt": "2026-11-23T13:00:00.000Z",
				"activeSignInId":       got["activeSignInId"],
				"activeOrganizationId": "org_1",
			}
			if expose {
				want["accessToken"] = "at-secret"
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
			if id, _ := got["activeSignInId"].(string); !strings.HasPrefix(id, "sin_") {
				t.Errorf("activeSignInId: got %q, want sin_...", id)
			}
			if strings.Contains(rec.Body.String(), "rt-secret") {
				t.Fatal("the session JSON holds the refresh token")
			}
		})
	}
}

func TestHandlerNullSession(t *testing.T) {
	_, h := handlerManager(t, func(c *Config) { c.NullSession = true })
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/session", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "null\n" {
		t.Fatalf("got %d %q, want 200 null", rec.Code, rec.Body)
	}
}
