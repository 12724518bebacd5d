package sessionkit_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit"
)

// Handler serves the endpoints that next-auth/react's client calls. Mount
// it at Config.BasePath; the Auth.js client finds it there through
// NEXTAUTH_URL (https://app.example/api/auth).
func ExampleManager_Handler() {
	m, err := sessionkit.New(sessionkit.Config{
		Keys: [][]byte{exampleKey},
		URL:  "https://app.example",
		Providers: []sessionkit.Provider{{
			ID: "oidc", Name: "Example IdP", Issuer: "https://idp.example",
			ClientID: "app", ClientSecret: "from the environment",
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.Handle("/api/auth/", m.Handler())
	for _, path := range []string{"/api/auth/providers", "/api/auth/session"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example"+path, nil))
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 {"oidc":{"id":"oidc","name":"Example IdP","type":"oidc","signinUrl":"https://app.example/api/auth/signin/oidc","callbackUrl":"https://app.example/api/auth/callback/oidc"}}
	// 200 {}
}
