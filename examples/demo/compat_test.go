package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireTool skips the test when something it needs is missing, except
// in CI (CI=true), where the test fails instead: CI installs it.
func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: .ci/run installs it)", what)
	}
	t.Skip(what)
}

// TestNextAuthClient runs next-auth v4's client functions (getProviders,
// getSession, getCsrfToken, signOut) in Node against the demo, with the
// cookies of a browser that signed in, through compat/nextauth/compat.cjs.
func TestNextAuthClient(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "compat", "nextauth"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	requireTool(t, err == nil, "node is not installed")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "next-auth", "react", "index.js"))
	requireTool(t, err == nil, "next-auth is not installed: run `npm ci` in compat/nextauth")

	d := startDemo(t, "ada")
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get(d.URL + "/api/auth/signin/oidc?callbackUrl=%2F")
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, resp); !strings.Contains(body, "ada@example.com") {
		t.Fatalf("sign-in: landed on %s without the user", resp.Request.URL)
	}
	u, _ := url.Parse(d.URL)
	var cookies []string
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "compat.cjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"NEXTAUTH_URL="+d.URL+"/api/auth",
		"SESSIONKIT_COOKIES="+strings.Join(cookies, "; "),
		"EXPECT_EMAIL=ada@example.com",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node compat.cjs:\n%s", out)
	if err != nil {
		t.Fatalf("next-auth client checks failed: %v", err)
	}
}
