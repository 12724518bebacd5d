package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// A flow cookie serves one callback on the server, not only in the
// browser that is told to delete it: sent again with a fresh code for the
// same state (and so the same PKCE challenge and nonce), it is refused.
// With a Store the state is consumed there; without one, in the Manager.
func TestSignInStateReplay(t *testing.T) {
	tests := []struct {
		name    string
		backend func(t *testing.T) store.Store
	}{
		{"stateless", nil},
		{"memstore", func(t *testing.T) store.Store {
			s, err := memstore.New(memstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
				if tt.backend != nil {
					c.Store = tt.backend(t)
				}
			}})
			b := newBrowser(t)
			r := b.get(a.URL + "/api/auth/signin/oidc?callbackUrl=%2F")
			var flow *http.Cookie
			for _, c := range (&http.Response{Header: r.header}).Cookies() {
				if strings.Contains(c.Name, ".oauth-state.") {
					flow = c
				}
			}
			if r.status != http.StatusFound || flow == nil {
				t.Fatalf("GET /signin/oidc: got %d, cookies %v; want 302 and a flow cookie", r.status, r.header["Set-Cookie"])
			}
			if got := b.get(b.authorize(a, r.location)); got.status != http.StatusFound {
				t.Fatalf("first callback: got %d %s, want 302", got.status, got.body)
			}
			// The same authorization request again: a new code for the
			// same state, sent with the saved flow cookie.
			other := newBrowser(t)
			cb := other.authorize(a, r.location)
			req, _ := http.NewRequest(http.MethodGet, cb, nil)
			req.AddCookie(flow)
			got := other.do(req)
			if got.status != http.StatusBadRequest || !strings.Contains(got.body, "InvalidCheck") {
				t.Fatalf("replayed flow cookie: got %d %s, want 400 InvalidCheck", got.status, got.body)
			}
		})
	}
}
