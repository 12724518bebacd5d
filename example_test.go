package sessionkit_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
)

// A server that signs a user in, then reads the session in a protected
// handler. In a real application the secret comes from the environment
// (for example $SESSIONKIT_SECRET) and SignIn runs in the OAuth callback.
func Example() {
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{[]byte("an example secret of at least 32 bytes, from the environment")}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.SignIn(w, r, sessionkit.SignInParams{
			User: &sessionkit.User{ID: "user_1", Email: "ada@example.com"},
		}); err != nil {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.Handle("/me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s, your session is %s", s.User.Email, s.Status)
	})))
	srv := httptest.NewTLSServer(m.Middleware(mux))
	defer srv.Close()

	client := srv.Client()
	client.Jar = newJar()
	resp, err := client.Get(srv.URL + "/login")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(readAll(resp))
	// Output: hello ada@example.com, your session is active
}

// Require answers a page request without a session with a redirect to the
// sign-in page, remembering where the user was going.
func ExampleManager_Require() {
	m, _ := sessionkit.New(sessionkit.Config{Keys: [][]byte{exampleKey}})
	defer m.Close()
	protected := m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	page := httptest.NewRecorder()
	protected.ServeHTTP(page, httptest.NewRequest("GET", "https://app.example/settings?tab=profile", nil))
	fmt.Println(page.Code, page.Header().Get("Location"))

	api := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "https://app.example/api/me", nil)
	req.Header.Set("Accept", "application/json")
	protected.ServeHTTP(api, req)
	fmt.Println(api.Code, api.Body.String())
	// Output:
	// 303 /api/auth/signin?callbackUrl=%2Fsettings%3Ftab%3Dprofile
	// 401 {"error":"unauthenticated","error_description":"no session"}
}

// Bearer JWTs are sessions too. Here the verification key is static; in
// production list the provider's JWKS URL in JWKSURLs instead.
func ExampleJWTConfig() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	m, err := sessionkit.New(sessionkit.Config{
		Bearer: &sessionkit.JWTConfig{
			StaticKeys: []sessionkit.StaticKey{{ID: "k1", Key: pub}},
			Issuer:     "https://issuer.example",
			Audience:   []string{"api://orders"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://issuer.example", "aud": "api://orders", "sub": "user_42",
		"org_id": "org_7", "exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = "k1"
	raw, _ := tok.SignedString(priv)

	req := httptest.NewRequest("GET", "https://api.example/orders", nil)
	req.Header.Set("Authorization", "Bearer "+raw)
	s, err := m.GetServerSession(req)
	fmt.Println(s.User.ID, s.ActiveOrganizationID, s.Source, err)
	// Output: user_42 org_7 bearer <nil>
}

// GetServerSession tells an expired session from a missing one.
func ExampleManager_GetServerSession() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, _ := sessionkit.New(sessionkit.Config{
		Keys:     [][]byte{exampleKey},
		Lifetime: time.Hour,
		Now:      func() time.Time { return now },
	})
	defer m.Close()
	rec := httptest.NewRecorder()
	_, _ = m.SignIn(rec, httptest.NewRequest("GET", "https://app.example/", nil),
		sessionkit.SignInParams{User: &sessionkit.User{ID: "user_1"}})

	now = now.Add(2 * time.Hour)
	req := httptest.NewRequest("GET", "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	s, err := m.GetServerSession(req)
	fmt.Println(s.Status, err)

	_, err = m.GetServerSession(httptest.NewRequest("GET", "https://app.example/", nil))
	fmt.Println(err)
	// Output:
	// expired sessionkit: session expired
	// sessionkit: no session
}

// exampleKey keys the examples' Managers: at least 32 bytes of secret.
var exampleKey = []byte("another example secret, at least 32 bytes long")

// The middleware refreshes an access token that is about to expire before
// the handler runs, through the provider the session was signed in with,
// and writes the new tokens back to the cookie. Here the provider's token
// endpoint is a stand-in that rotates tokens on each call.
func ExampleManager_Middleware_refresh() {
	var calls atomic.Int64
	tokenEndpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1) + 1
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"access-%d","refresh_token":"refresh-%d","token_type":"Bearer","expires_in":3600}`, n, n)
	}))
	defer tokenEndpoint.Close()

	m, err := sessionkit.New(sessionkit.Config{
		Keys: [][]byte{exampleKey},
		Providers: []sessionkit.Provider{{
			ID: "idp", ClientID: "app", ClientSecret: "secret",
			AuthURL: tokenEndpoint.URL + "/authorize", TokenURL: tokenEndpoint.URL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		// An access token that has just expired: due for refresh.
		tok := &oauth2.Token{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: time.Now().Add(-time.Second)}
		if _, err := m.SignIn(w, r, sessionkit.SignInParams{Token: tok, Provider: "idp", User: &sessionkit.User{ID: "user_1"}}); err != nil {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		fmt.Fprintf(w, "calling the API with %s", s.AccessToken)
	})
	srv := httptest.NewTLSServer(m.Middleware(mux))
	defer srv.Close()

	client := srv.Client()
	client.Jar = newJar()
	readAll(must(client.Get(srv.URL + "/login")))
	fmt.Println(readAll(must(client.Get(srv.URL + "/api"))))
	fmt.Println(readAll(must(client.Get(srv.URL + "/api"))))
	fmt.Println("token endpoint calls:", calls.Load())
	// Output:
	// calling the API with access-2
	// calling the API with access-2
	// token endpoint calls: 1
}

func must(resp *http.Response, err error) *http.Response {
	if err != nil {
		log.Fatal(err)
	}
	return resp
}
