package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
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
	o.addr, o.secret, o.accessTokenTTL = "127.0.0.1:0", strings.Repeat("demo-test-secret-", 3), 30*time.Second
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
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}
	get := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, d.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, read(t, resp)
	}

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
	if _, body = get("/"); !strings.Contains(body, `id="email">ada@example.com`) || !strings.Contains(body, `id="status">active`) {
		t.Fatalf("home signed in: got %q", body)
	}
	// The API answers the session.
	_, body = get("/api/me", "Accept", "application/json")
	var m struct {
		Status               string
		User                 struct{ Email string }
		AccessTokenExpiresAt time.Time
		AccessTokenSHA256    string `json:"accessTokenSha256"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Status != "active" || m.User.Email != "ada@example.com" ||
		len(m.AccessTokenSHA256) != 12 || time.Until(m.AccessTokenExpiresAt) > 31*time.Second {
		t.Fatalf("/api/me: got %s (%v)", body, err)
	}
	// The session endpoint answers the Auth.js shape.
	_, body = get("/api/auth/session")
	if !strings.Contains(body, `"email":"ada@example.com"`) || !strings.Contains(body, `"expires":"`) {
		t.Fatalf("/api/auth/session: got %s", body)
	}
	// Sign out as next-auth's signOut() does.
	_, body = get("/api/auth/csrf")
	var c struct{ CSRFToken string }
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	resp, err := client.PostForm(d.URL+"/api/auth/signout", url.Values{"csrfToken": {c.CSRFToken}, "callbackUrl": {d.URL + "/"}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if body = read(t, resp); resp.StatusCode != http.StatusOK || body != `{"url":"`+d.URL+`/"}`+"\n" {
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

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
