package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startDemo runs the demo on a free loopback port with the embedded
// provider; autoLogin skips devoidc's login page.
func startDemo(t *testing.T, autoLogin string) *demo {
	t.Helper()
	return startDemoWith(t, options{autoLogin: autoLogin})
}

// startDemoWith runs the demo with o on a free loopback port.
func startDemoWith(t *testing.T, o options) *demo {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	o.addr, o.secret = "127.0.0.1:0", strings.Repeat("demo-test-secret-", 3)
	if o.devTokenTTL == "" {
		o.devTokenTTL = "30s"
	}
	d, err := start(context.Background(), logger, o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.srv.Serve(d.ln)
	}()
	t.Cleanup(func() {
		d.Close()
		<-done
	})
	return d
}

func TestDemoFlow(t *testing.T) {
	d := startDemo(t, "ada")
	b := newBrowser(t, d)
	get := b.get

	// Signed out: the home page says so, the protected page sends us to
	// the sign-in page, which offers the provider.
	if _, body := get("/"); !strings.Contains(body, `id="signed-out"`) {
		t.Fatalf("home signed out: got %q, want the signed-out text", body)
	}
	resp, body := get("/protected")
	if resp.Request.URL.Path != "/api/auth/signin" || resp.Request.URL.Query().Get("callbackUrl") != "/protected" || !strings.Contains(body, `id="signin-oidc"`) {
		t.Fatalf("protected page signed out: got %s, want the sign-in page", resp.Request.URL)
	}
	// A forged bearer token is refused.
	resp, _ = get("/api/me", "Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged bearer: got %d, want 401", resp.StatusCode)
	}
	// Sign in (devoidc signs ada in at once) and land on the protected page.
	resp, body = get("/api/auth/signin/oidc?callbackUrl=%2Fprotected")
	if resp.Request.URL.String() != d.URL+"/protected" || !strings.Contains(body, "Ada Lovelace") {
		t.Fatalf("after sign-in: got %s %q, want the protected page for Ada", resp.Request.URL, body)
	}
	if _, body = get("/"); !strings.Contains(body, `id="email">ada@example.com`) || !strings.Contains(body, `id="status">active`) ||
		!strings.Contains(body, `id="access-issued" datetime="`) {
		t.Fatalf("home signed in: got %q", body)
	}
	// The API answers the session.
	_, body = get("/api/me", "Accept", "application/json")
	var m struct {
		Status               string
		User                 struct{ Email string }
		AccessTokenExpiresAt time.Time
		AccessTokenIssuedAt  time.Time
		AccessTokenSHA256    string `json:"accessTokenSha256"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Status != "active" || m.User.Email != "ada@example.com" ||
		len(m.AccessTokenSHA256) != 12 || time.Until(m.AccessTokenExpiresAt) > 31*time.Second ||
		m.AccessTokenIssuedAt.IsZero() || !m.AccessTokenIssuedAt.Before(m.AccessTokenExpiresAt) || time.Since(m.AccessTokenIssuedAt) < -time.Second {
		t.Fatalf("/api/me: got %s (%v)", body, err)
	}
	// The session endpoint answers the Auth.js shape.
	_, body = get("/api/auth/session")
	if !strings.Contains(body, `"email":"ada@example.com"`) || !strings.Contains(body, `"expires":"`) {
		t.Fatalf("/api/auth/session: got %s", body)
	}
	// The "api" token template, verified with the published JWK Set.
	claims := apiToken(t, get)
	if claims["sub"] == "" || claims["sub"] == nil || claims["email"] != "ada@example.com" || claims["org_id"] != nil {
		t.Fatalf("api token before a switch: got claims %v, want sub, email and no org_id", claims)
	}
	if lifetime := claims["exp"].(float64) - claims["iat"].(float64); lifetime != 300 {
		t.Fatalf("api token lifetime: got %vs, want 300s", lifetime)
	}
	sub := claims["sub"]
	csrf := func() string {
		t.Helper()
		_, body := get("/api/auth/csrf")
		var c struct{ CSRFToken string }
		if err := json.Unmarshal([]byte(body), &c); err != nil || c.CSRFToken == "" {
			t.Fatalf("/api/auth/csrf: got %q (%v)", body, err)
		}
		return c.CSRFToken
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		return b.post(path, form, "Origin", d.URL)
	}
	// Switch organization as the home page's buttons do; one the user is
	// no member of is refused.
	if _, body = get("/"); !strings.Contains(body, `id="org-org_acme"`) || !strings.Contains(body, `id="add-account"`) || !strings.Contains(body, `class="active-account"`) {
		t.Fatalf("home: got %q, want the organization and account switchers", body)
	}
	if resp, body := post("/api/auth/organization", url.Values{"csrfToken": {csrf()}, "organizationId": {"org_acme"}}); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"activeOrganizationId":"org_acme"`) {
		t.Fatalf("POST /api/auth/organization: got %d %q, want the session in org_acme", resp.StatusCode, body)
	}
	if resp, body := post("/api/auth/organization", url.Values{"csrfToken": {csrf()}, "organizationId": {"org_initech"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("switch to a foreign organization: got %d %q, want 403", resp.StatusCode, body)
	}
	if resp, _ := post("/api/auth/organization", url.Values{"csrfToken": {"forged"}, "organizationId": {"org_globex"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("switch without the CSRF token: got %d, want 403", resp.StatusCode)
	}
	if _, body = get("/"); !strings.Contains(body, `id="organization">org_acme<`) {
		t.Fatalf("home after the switch: got %q, want org_acme active", body)
	}
	// The token minted before the switch is not served after it.
	if claims = apiToken(t, get); claims["org_id"] != "org_acme" || claims["sub"] != sub || claims["email"] != "ada@example.com" {
		t.Fatalf("api token after the switch: got claims %v, want org_id org_acme", claims)
	}
	// The session lists its sign-ins; switching to the active one works.
	_, body = get("/api/auth/session")
	var sess struct {
		ActiveSignInID string `json:"activeSignInId"`
	}
	_ = json.Unmarshal([]byte(body), &sess)
	if sess.ActiveSignInID != "" {
		if resp, body := post("/api/auth/switch", url.Values{"csrfToken": {csrf()}, "signInId": {sess.ActiveSignInID}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/auth/switch: got %d %q", resp.StatusCode, body)
		}
	}
	if resp, _ := post("/api/auth/switch", url.Values{"csrfToken": {csrf()}, "signInId": {"sin_nope"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("switch to an unknown sign-in: got %d, want 404", resp.StatusCode)
	}

	// Sign out as next-auth's signOut() does.
	resp, body = post("/api/auth/signout", url.Values{"csrfToken": {csrf()}, "callbackUrl": {d.URL + "/"}, "json": {"true"}})
	if resp.StatusCode != http.StatusOK || body != `{"url":"`+d.URL+`/"}`+"\n" {
		t.Fatalf("sign-out: got %d %q", resp.StatusCode, body)
	}
	resp, _ = get("/api/me", "Accept", "application/json")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/api/me after sign-out: got %d, want 401", resp.StatusCode)
	}
	if _, body = get("/api/auth/session"); body != "{}\n" {
		t.Fatalf("/api/auth/session after sign-out: got %q, want {}", body)
	}
}

func TestDevTokenTTL(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string // a substring of the error; "" for none
	}{
		{"", time.Minute, ""},
		{"3s", 3 * time.Second, ""},
		{"2s", 2 * time.Second, ""},
		{"90m", 90 * time.Minute, ""},
		{"1999ms", 0, "at least 2s"},
		{"1s", 0, "at least 2s"},
		{"0s", 0, "at least 2s"},
		{"-5s", 0, "at least 2s"},
		{"30", 0, "not a Go duration"},
		{"soon", 0, "not a Go duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDevTokenTTL(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %s, %v; want %s", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "SESSIONKIT_DEV_TOKEN_TTL") {
				t.Fatalf("got %s, %v; want an error about SESSIONKIT_DEV_TOKEN_TTL saying %q", got, err, tt.wantErr)
			}
		})
	}
	// The demo refuses to start with a bad value, before it listens.
	d, err := start(context.Background(), slog.New(slog.DiscardHandler), options{addr: "127.0.0.1:0", devTokenTTL: "1s"})
	if err == nil {
		d.Close()
		t.Fatal("start with SESSIONKIT_DEV_TOKEN_TTL=1s: got no error")
	}
}

func TestDemoCanonicalHost(t *testing.T) {
	d := startDemo(t, "ada")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, d.URL+"/protected?x=1", nil)
	req.Host = "localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusTemporaryRedirect || got != d.URL+"/protected?x=1" {
		t.Fatalf("got %d to %q, want 307 to %s/protected?x=1", resp.StatusCode, got, d.URL)
	}
}

// apiToken fetches GET /api/auth/token?template=api, verifies its EdDSA
// signature with the key of GET /api/auth/jwks.json and its time claims,
// and returns its claims.
func apiToken(t *testing.T, get func(path string, header ...string) (*http.Response, string)) map[string]any {
	t.Helper()
	resp, body := get("/api/auth/token?template=api")
	var tok struct{ JWT string }
	if err := json.Unmarshal([]byte(body), &tok); resp.StatusCode != http.StatusOK || err != nil || tok.JWT == "" {
		t.Fatalf("/api/auth/token?template=api: got %d %q", resp.StatusCode, body)
	}
	resp, body = get("/api/auth/jwks.json")
	var set struct {
		Keys []struct{ Kty, Crv, Kid, X, Alg string }
	}
	if err := json.Unmarshal([]byte(body), &set); resp.StatusCode != http.StatusOK || err != nil || len(set.Keys) == 0 {
		t.Fatalf("/api/auth/jwks.json: got %d %q", resp.StatusCode, body)
	}
	parts := strings.Split(tok.JWT, ".")
	if len(parts) != 3 {
		t.Fatalf("token: got %q, want a JWS", tok.JWT)
	}
	var hdr struct{ Alg, Kid string }
	decode := func(i int, v any) {
		t.Helper()
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("token part %d: %v", i, err)
			}
		}
	}
	decode(0, &hdr)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || hdr.Alg != "EdDSA" {
		t.Fatalf("token header: got %+v (%v), want EdDSA", hdr, err)
	}
	verified := false
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid || k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			t.Fatalf("JWK %s: bad x", k.Kid)
		}
		verified = ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig)
	}
	if !verified {
		t.Fatalf("token signed by %q does not verify with %s", hdr.Kid, body)
	}
	claims := map[string]any{}
	decode(1, &claims)
	now := float64(time.Now().Unix())
	if exp, _ := claims["exp"].(float64); exp <= now || exp > now+301 {
		t.Fatalf("token exp: got %v, want within 5 minutes", claims["exp"])
	}
	return claims
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
