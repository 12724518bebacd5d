package sessionkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// providerEndpoints is a provider's discovery document, revocation and
// introspection endpoints, recording the forms they receive.
type providerEndpoints struct {
	*httptest.Server
	mu       sync.Mutex
	forms    map[string][]url.Values // path -> forms received
	active   map[string]string       // token -> introspection answer
	endpoint map[string]string       // extra discovery members
}

func newProviderEndpoints(t *testing.T, endpoint map[string]string, active map[string]string) *providerEndpoints {
	t.Helper()
	p := &providerEndpoints{forms: map[string][]url.Values{}, active: active, endpoint: endpoint}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			doc := goodDoc(p.URL).(map[string]any)
			for k, v := range p.endpoint {
				doc[k] = p.URL + v
			}
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		_ = r.ParseForm()
		p.mu.Lock()
		p.forms[r.URL.Path] = append(p.forms[r.URL.Path], r.PostForm)
		body, ok := p.active[r.PostForm.Get("token")]
		p.mu.Unlock()
		switch {
		case !ok:
			body = `{"active":false}`
		case body == "500": // the endpoint fails
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *providerEndpoints) received(path string) []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.forms[path]...)
}

// signOutJSON posts a sign-out as next-auth's client does and returns the
// URL answered.
func signOutJSON(t *testing.T, m *Manager, cookies []*http.Cookie, callback string) string {
	t.Helper()
	return signOutJSONWith(t, m, cookies, url.Values{"callbackUrl": {callback}})
}

// signOutJSONWith is signOutJSON posting form's fields too.
func signOutJSONWith(t *testing.T, m *Manager, cookies []*http.Cookie, form url.Values) string {
	t.Helper()
	req := requestWith("https://app.example/api/auth/csrf", cookies)
	rec := serve(m.Handler(), req)
	var csrf struct{ CSRFToken string }
	_ = json.Unmarshal(rec.Body.Bytes(), &csrf)
	cookies = append(cookies, rec.Result().Cookies()...)
	form.Set("csrfToken", csrf.CSRFToken)
	form.Set("json", "true")
	req = httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/signout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec = serve(m.Handler(), req)
	var v struct{ URL string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("sign-out: got %d %s", rec.Code, rec.Body)
	}
	return v.URL
}

func TestSignOutAtTheProviderAndRevocation(t *testing.T) {
	tests := []struct {
		name       string
		logout     bool
		endpoints  map[string]string
		wantEnd    bool
		wantRevoke bool
	}{
		{name: "logout and revocation", logout: true, endpoints: map[string]string{"end_session_endpoint": "/logout", "revocation_endpoint": "/revoke"}, wantEnd: true, wantRevoke: true},
		{name: "logout off", endpoints: map[string]string{"end_session_endpoint": "/logout"}},
		{name: "no end-session endpoint", logout: true, endpoints: map[string]string{"revocation_endpoint": "/revoke"}, wantRevoke: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProviderEndpoints(t, tt.endpoints, nil)
			cfg := testConfig(newClock(), "")
			cfg.URL = "https://app.example"
			cfg.Providers = []Provider{{ID: "oidc", Issuer: p.URL, ClientID: "app", ClientSecret: "s", Logout: tt.logout}}
			m := mustNew(t, cfg)
			cookies := signInCookies(t, m, SignInParams{Provider: "oidc", User: &User{ID: "u1"},
				Token: &oauth2.Token{AccessToken: "at", RefreshToken: "rt-1", Expiry: t0.Add(time.Hour)}})
			got := signOutJSON(t, m, cookies, "/bye")
			if !tt.wantEnd {
				if got != "https://app.example/bye" {
					t.Fatalf("sign-out URL: got %q, want the callback", got)
				}
			} else {
				u, _ := url.Parse(got)
				q := u.Query()
				if !strings.HasPrefix(got, p.URL+"/logout?") || q.Get("client_id") != "app" || q.Get("post_logout_redirect_uri") != "https://app.example/bye" || q.Get("state") == "" || q.Has("id_token_hint") {
					t.Fatalf("sign-out URL: got %q, want the end-session endpoint's", got)
				}
			}
			m.revoker.Wait()
			revoked := p.received("/revoke")
			if tt.wantRevoke != (len(revoked) == 1) || (tt.wantRevoke && revoked[0].Get("token") != "rt-1") {
				t.Fatalf("revocations: got %v, want one of rt-1: %v", revoked, tt.wantRevoke)
			}
		})
	}
}

func TestOpaqueBearerByIntrospection(t *testing.T) {
	clk := newClock()
	exp := t0.Add(30 * time.Minute).Unix()
	p := newProviderEndpoints(t, map[string]string{"introspection_endpoint": "/introspect"}, map[string]string{
		"opaque-1":      `{"active":true,"client_id":"api","sub":"u1","email":"u1@example.com","exp":` + jsonNum(exp) + `}`,
		"opaque-theirs": `{"active":true,"client_id":"another-app","aud":"https://other-api","sub":"u1","exp":` + jsonNum(exp) + `}`,
		"opaque-rt":     `{"active":true,"client_id":"api","token_use":"refresh_token","sub":"u1","exp":` + jsonNum(exp) + `}`,
		"opaque-down":   "500",
	})
	cfg := testConfig(clk, "")
	cfg.Providers = []Provider{{ID: "oidc", Issuer: p.URL, ClientID: "api", ClientSecret: "s", IntrospectionURL: "discovery"}}
	m := mustNew(t, cfg)
	var c capture
	h := m.Require(c.handler(m))
	call := func(tok string) int {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/api", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return serve(h, req).Code
	}
	if code := call("opaque-1"); code != http.StatusOK {
		t.Fatalf("active token: got %d, want 200", code)
	}
	s := c.session
	if s.Source != SourceBearer || s.User.ID != "u1" || s.User.Email != "u1@example.com" || s.JWT != "opaque-1" || s.AccessToken != "opaque-1" ||
		!s.ExpireAt.Equal(time.Unix(exp, 0)) || s.Claims()["sub"] != "u1" {
		t.Fatalf("session: got %+v", s)
	}
	call("opaque-1")
	if n := len(p.received("/introspect")); n != 1 {
		t.Fatalf("a cached token: got %d introspections, want 1", n)
	}
	clk.Advance(time.Minute)
	call("opaque-1")
	if n := len(p.received("/introspect")); n != 2 {
		t.Fatalf("past a minute: got %d introspections, want 2", n)
	}
	for _, tok := range []string{"opaque-unknown", "opaque-unknown"} {
		if code := call(tok); code != http.StatusUnauthorized {
			t.Fatalf("inactive token: got %d, want 401", code)
		}
	}
	if n := len(p.received("/introspect")); n != 3 {
		t.Fatalf("an inactive token twice: got %d introspections, want 3", n)
	}
	if code := call("a.b.c"); code != http.StatusUnauthorized || len(p.received("/introspect")) != 3 {
		t.Fatalf("a JWT without Config.Bearer: got %d, and introspected", code)
	}
	// Active at the provider, but another client's token, or a refresh
	// token: refused.
	for _, tok := range []string{"opaque-theirs", "opaque-rt"} {
		if code := call(tok); code != http.StatusUnauthorized {
			t.Fatalf("%s: got %d, want 401", tok, code)
		}
	}
	// No answer is not a "no": 503, as for a Store outage.
	if code := call("opaque-down"); code != http.StatusServiceUnavailable {
		t.Fatalf("introspection endpoint failing: got %d, want 503", code)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A stateless session that drops one of its sign-ins revokes that
// sign-in's refresh token, and only it.
func TestSignOutOneRevokesItsRefreshToken(t *testing.T) {
	p := newProviderEndpoints(t, map[string]string{"revocation_endpoint": "/revoke"}, nil)
	cfg := testConfig(newClock(), "")
	cfg.Providers = []Provider{{ID: "oidc", Issuer: p.URL, ClientID: "app", ClientSecret: "s"}}
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Provider: "oidc", User: &User{ID: "u1"},
		Token: &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: t0.Add(time.Hour)}})
	rec := httptest.NewRecorder()
	s, err := m.AddSignIn(rec, requestWith("https://app.example/", cookies), SignInParams{Provider: "oidc", User: &User{ID: "u2"},
		Token: &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2", Expiry: t0.Add(time.Hour)}})
	if err != nil {
		t.Fatalf("AddSignIn: %v", err)
	}
	first := s.OtherSignIns[0].ID
	if _, err := m.SignOutOne(httptest.NewRecorder(), requestWith("https://app.example/", rec.Result().Cookies()), first); err != nil {
		t.Fatalf("SignOutOne: %v", err)
	}
	m.revoker.Wait()
	if got := p.received("/revoke"); len(got) != 1 || got[0].Get("token") != "rt-1" {
		t.Fatalf("revocations: got %v, want rt-1's alone", got)
	}
}

// Signing out the last account by its ID ends the session as a sign-out
// does, and goes on to the provider's end-session endpoint too.
func TestSignOutLastAccountGoesToTheProvider(t *testing.T) {
	p := newProviderEndpoints(t, map[string]string{"end_session_endpoint": "/logout"}, nil)
	cfg := testConfig(newClock(), "")
	cfg.URL = "https://app.example"
	cfg.Providers = []Provider{{ID: "oidc", Issuer: p.URL, ClientID: "app", ClientSecret: "s", Logout: true}}
	m := mustNew(t, cfg)
	rec := httptest.NewRecorder()
	s, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), SignInParams{Provider: "oidc", User: &User{ID: "u1"},
		Token: &oauth2.Token{AccessToken: "at", Expiry: t0.Add(time.Hour)}})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	got := signOutJSONWith(t, m, rec.Result().Cookies(), url.Values{"callbackUrl": {"/bye"}, "signInId": {s.SignIn.ID}})
	if !strings.HasPrefix(got, p.URL+"/logout?") || !strings.Contains(got, url.QueryEscape("https://app.example/bye")) {
		t.Fatalf("sign-out URL: got %q, want the end-session endpoint's, back to /bye", got)
	}
}
