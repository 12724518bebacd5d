package sessionkit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit"
)

// A token template named "api" (user ID, email, active organization,
// 5-minute lifetime), minted for a session as GET
// /api/auth/token?template=api serves it, and verified as an API would,
// with the JWK Set of GET /api/auth/jwks.json.
func ExampleManager_GetToken() {
	_, signingKey, _ := ed25519.GenerateKey(rand.Reader)
	m, err := sessionkit.New(sessionkit.Config{
		Keys: [][]byte{[]byte("an example secret of at least 32 bytes, from the environment")},
		URL:  "https://app.example",
		Tokens: &sessionkit.TokenConfig{
			Keys: []sessionkit.StaticKey{{ID: "2026-11", Key: signingKey}},
			Templates: map[string]sessionkit.TokenTemplate{
				"api": {
					Lifetime: 5 * time.Minute,
					Audience: []string{"https://api.example"},
					Fields:   map[string]string{"email": "user.email"},
				},
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	s, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		sessionkit.SignInParams{User: &sessionkit.User{ID: "user_1", Email: "ada@example.com"}, OrganizationID: "org_1"})
	if err != nil {
		log.Fatal(err)
	}
	raw, err := m.GetToken(context.Background(), s, "api")
	if err != nil {
		log.Fatal(err)
	}
	again, _ := m.GetToken(context.Background(), s, "api")
	fmt.Println("cached:", again == raw)

	// The API side: any JWT library with the published public key.
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return signingKey.Public(), nil },
		jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("https://api.example"), jwt.WithIssuer("https://app.example/api/auth"))
	fmt.Println(err, claims["sub"], claims["email"], claims["org_id"])
	// Output:
	// cached: true
	// <nil> user_1 ada@example.com org_1
}

// Switching organizations after the application's membership check.
func ExampleManager_SwitchScope() {
	members := map[string][]string{"user_1": {"org_1", "org_2"}}
	m, err := sessionkit.New(sessionkit.Config{
		Keys: [][]byte{[]byte("an example secret of at least 32 bytes, from the environment")},
		AuthorizeScope: func(ctx context.Context, s *sessionkit.Session, kind sessionkit.ScopeKind, id string) error {
			if kind != sessionkit.ScopeOrganization || id == "" {
				return nil
			}
			for _, org := range members[s.User.ID] {
				if org == id {
					return nil
				}
			}
			return errors.New("not a member")
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		sessionkit.SignInParams{User: &sessionkit.User{ID: "user_1"}, OrganizationID: "org_1"}); err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	s, err := m.SwitchScope(httptest.NewRecorder(), req, sessionkit.ScopeOrganization, "org_2")
	fmt.Println(s.ActiveOrganizationID, err)
	_, err = m.SwitchScope(httptest.NewRecorder(), req, sessionkit.ScopeOrganization, "org_3")
	fmt.Println(errors.Is(err, sessionkit.ErrScopeForbidden))
	// Output:
	// org_2 <nil>
	// true
}

// After a change of privileges the session does not show, such as a
// step-up authentication, RotateSession moves the session to a new ID so
// that a session ID known before the change is worth nothing after it.
func ExampleManager_RotateSession() {
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{exampleKey}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	rec := httptest.NewRecorder()
	before, err := m.SignIn(rec, httptest.NewRequest(http.MethodPost, "https://app.example/", nil),
		sessionkit.SignInParams{User: &sessionkit.User{ID: "user_1"}})
	if err != nil {
		log.Fatal(err)
	}
	// The user has just passed a second factor.
	r := httptest.NewRequest(http.MethodPost, "https://app.example/mfa", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	after, err := m.RotateSession(httptest.NewRecorder(), r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(after.User.ID, after.ID != before.ID)
	// Output: user_1 true
}
