package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit"
)

func TestDemoFlow(t *testing.T) {
	keys, err := sessionkit.KeyPairFromSecret(strings.Repeat("demo-test-secret-", 3))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sessionkit.New(sessionkit.Config{Keys: []sessionkit.KeyPair{keys}, SignInURL: "/signin"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(newHandler(m))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}

	// Signed out: the protected page sends us to sign in.
	resp, err := client.Get(srv.URL + "/protected")
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, resp)
	if resp.Request.URL.Path != "/signin" || !strings.Contains(body, "Pick a demo user") {
		t.Fatalf("got %s, want the sign-in page", resp.Request.URL)
	}
	// Sign in and land back on the protected page.
	resp, err = client.PostForm(srv.URL+"/signin", url.Values{"user": {"grace"}, "callbackUrl": {"/protected"}})
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, resp); resp.Request.URL.Path != "/protected" || !strings.Contains(body, "Grace Hopper") {
		t.Fatalf("after sign-in: %s %s", resp.Request.URL, body)
	}
	// The API answers the session.
	resp, err = client.Get(srv.URL + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Status string `json:"status"`
		User   struct{ Email string }
	}
	if err := json.Unmarshal([]byte(read(t, resp)), &me); err != nil || me.Status != "active" || me.User.Email != "grace@example.com" {
		t.Fatalf("/api/me: %+v %v", me, err)
	}
	// An open-redirect callbackUrl lands on /.
	resp, err = client.PostForm(srv.URL+"/signin", url.Values{"user": {"ada"}, "callbackUrl": {"//evil.example/x"}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	if resp.Request.URL.Host != strings.TrimPrefix(srv.URL, "http://") || resp.Request.URL.Path != "/" {
		t.Fatalf("open redirect: landed on %s", resp.Request.URL)
	}
	// A cross-site POST is refused.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/signout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-out: got %d, want 403", resp.StatusCode)
	}
	// Sign out; the API is closed again.
	resp, err = client.Post(srv.URL+"/signout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
	req.Header.Set("Accept", "application/json")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after sign-out: got %d, want 401", resp.StatusCode)
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
