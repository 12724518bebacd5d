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

// TestNextAuthClient runs next-auth's client functions (getProviders,
// getSession, getCsrfToken, signOut) in Node against the demo, with the
// cookies of a browser that signed in: v4 through compat/nextauth/compat.cjs,
// v5 through compat5.mjs against a demo with NullSession.
func TestNextAuthClient(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "compat", "nextauth"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	requireTool(t, err == nil, "node is not installed: TestNextAuthClient runs next-auth's clients in Node.js (apt-get install nodejs npm, then npm ci in compat/nextauth)")
	for _, tc := range []struct {
		name, script, module string
		nullSession          bool
	}{
		{"v4", "compat.cjs", "next-auth", false},
		{"v5", "compat5.mjs", "next-auth-v5", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err = os.Stat(filepath.Join(dir, "node_modules", tc.module, "package.json"))
			requireTool(t, err == nil, tc.module+" is not installed: run `npm ci` in compat/nextauth")
			d := startDemoWith(t, options{autoLogin: "ada", nullSession: tc.nullSession})
			cookies := signedInCookies(t, d)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, tc.script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"NEXTAUTH_URL="+d.URL+"/api/auth",
				"SESSIONKIT_COOKIES="+cookies,
				"EXPECT_EMAIL=ada@example.com",
			)
			out, err := cmd.CombinedOutput()
			t.Logf("node %s:\n%s", tc.script, out)
			if err != nil {
				t.Fatalf("next-auth %s client checks failed: %v", tc.name, err)
			}
		})
	}
}

// signedInCookies signs in to d with a Go client and returns its cookies
// as a Cookie header value.
func signedInCookies(t *testing.T, d *demo) string {
	t.Helper()
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
	return strings.Join(cookies, "; ")
}
