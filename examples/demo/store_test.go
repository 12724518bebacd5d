package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// demoRedis returns $SESSIONKIT_REDIS_URL and a key prefix of the test's
// own, whose keys are deleted when the test ends. Without the variable the
// test is skipped, except in CI (CI=true).
func demoRedis(t *testing.T) (string, string) {
	t.Helper()
	u := os.Getenv("SESSIONKIT_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SESSIONKIT_REDIS_URL is not set, and CI=true: the demo's Redis test must run in CI")
		}
		t.Skip("SESSIONKIT_REDIS_URL is not set: skipping the demo on Redis (set SESSIONKIT_REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	prefix := "sessionkit-demo-test:" + rand.Text() + ":"
	opt, err := rueidis.ParseURL(u)
	if err != nil {
		t.Fatalf("SESSIONKIT_REDIS_URL: %v", err)
	}
	opt.DisableCache, opt.ForceSingleClient = true, true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("connecting to SESSIONKIT_REDIS_URL: %v", err)
	}
	t.Cleanup(func() {
		defer c.Close()
		ctx := context.Background()
		var cursor uint64
		for {
			e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				t.Errorf("cleaning up %s: %v", prefix, err)
				return
			}
			if len(e.Elements) > 0 {
				c.Do(ctx, c.B().Del().Key(e.Elements...).Build())
			}
			if cursor = e.Cursor; cursor == 0 {
				return
			}
		}
	})
	return u, prefix
}

// browser is an HTTP client with a cookie jar of its own.
type browser struct {
	t *testing.T
	d *demo
	c *http.Client
}

func newBrowser(t *testing.T, d *demo) *browser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, d: d, c: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}}
}

func (b *browser) get(path string, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.d.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, read(b.t, resp)
}

func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.d.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, read(b.t, resp)
}

// sessions returns the statuses of /api/sessions, and how many are
// marked current.
func (b *browser) sessions() (statuses []string, current int, code int) {
	b.t.Helper()
	resp, body := b.get("/api/sessions", "Accept", "application/json")
	if resp.StatusCode != http.StatusOK {
		return nil, 0, resp.StatusCode
	}
	var v struct {
		Sessions []struct {
			ID      string
			Status  string
			Current bool
		}
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		b.t.Fatalf("/api/sessions: %v in %q", err, body)
	}
	for _, s := range v.Sessions {
		statuses = append(statuses, s.Status)
		if s.Current {
			current++
		}
	}
	return statuses, current, resp.StatusCode
}

var csrfInput = regexp.MustCompile(`name="csrfToken" value="([0-9a-f]+)"`)

// TestDemoStore runs the demo on a server-side store: two browsers of one
// user see both sessions on the Sessions page, and "sign out everywhere"
// (CSRF-protected) signs both out.
func TestDemoStore(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T) options
	}{
		{"memory", func(*testing.T) options { return options{store: storeMemory} }},
		{"redis", func(t *testing.T) options {
			u, prefix := demoRedis(t)
			return options{redisURL: u, redisPrefix: prefix}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts(t)
			o.autoLogin = "ada"
			d := startDemoWith(t, o)
			a, b := newBrowser(t, d), newBrowser(t, d)
			for _, br := range []*browser{a, b} {
				if resp, body := br.get("/api/auth/signin/oidc?callbackUrl=%2Fprotected"); resp.Request.URL.Path != "/protected" || !strings.Contains(body, "Ada Lovelace") {
					t.Fatalf("sign-in: got %s, want the protected page for Ada", resp.Request.URL)
				}
			}
			statuses, current, code := a.sessions()
			if code != http.StatusOK || strings.Join(statuses, ",") != "active,active" || current != 1 {
				t.Fatalf("/api/sessions: got %d %v with %d current, want 200, two active sessions, one current", code, statuses, current)
			}
			_, page := a.get("/sessions")
			m := csrfInput.FindStringSubmatch(page)
			if m == nil || strings.Count(page, `class="session"`) != 2 || !strings.Contains(page, "(this browser)") {
				t.Fatalf("/sessions: got %q, want two sessions and the sign-out-everywhere form", page)
			}
			token := m[1]

			refused := []struct {
				name   string
				form   url.Values
				header []string
			}{
				{"no token", url.Values{}, nil},
				{"wrong token", url.Values{"csrfToken": {strings.Repeat("0", len(token))}}, nil},
				{"another session's token", url.Values{"csrfToken": {csrfInput.FindStringSubmatch(func() string { _, p := b.get("/sessions"); return p }())[1]}}, nil},
				{"cross-site", url.Values{"csrfToken": {token}}, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
			}
			for _, r := range refused {
				if resp, _ := a.post("/sessions/revoke-all", r.form, r.header...); resp.StatusCode != http.StatusForbidden {
					t.Errorf("sign out everywhere, %s: got %d, want 403", r.name, resp.StatusCode)
				}
			}
			if _, _, code := b.sessions(); code != http.StatusOK {
				t.Fatalf("after the refused requests: /api/sessions answered %d, want 200 (still signed in)", code)
			}

			resp, _ := a.post("/sessions/revoke-all", url.Values{"csrfToken": {token}}, "Sec-Fetch-Site", "same-origin")
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
				t.Fatalf("sign out everywhere: got %d at %s, want the home page", resp.StatusCode, resp.Request.URL)
			}
			for name, br := range map[string]*browser{"this browser": a, "the other browser": b} {
				if resp, _ := br.get("/api/me", "Accept", "application/json"); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s after signing out everywhere: /api/me answered %d, want 401", name, resp.StatusCode)
				}
			}
			// Signed in again, the user sees the revoked sessions beside the
			// new one.
			a.get("/api/auth/signin/oidc?callbackUrl=%2F")
			statuses, _, _ = a.sessions()
			if got := strings.Join(statuses, ","); strings.Count(got, "revoked") != 2 || strings.Count(got, "active") != 1 {
				t.Fatalf("/api/sessions after signing in again: got %v, want one active and two revoked", statuses)
			}
		})
	}
}

func TestDemoStatelessSessionsPage(t *testing.T) {
	d := startDemo(t, "ada")
	br := newBrowser(t, d)
	br.get("/api/auth/signin/oidc?callbackUrl=%2F")
	if _, page := br.get("/sessions"); !strings.Contains(page, `id="stateless"`) {
		t.Fatalf("/sessions without a store: got %q, want the stateless note", page)
	}
	if _, _, code := br.sessions(); code != http.StatusNotFound {
		t.Fatalf("/api/sessions without a store: got %d, want 404", code)
	}
}

func TestOpenStoreErrors(t *testing.T) {
	tests := []struct {
		name string
		o    options
	}{
		{"redis without a URL", options{store: storeRedis}},
		{"unknown store", options{store: "postgres"}},
		{"unreachable Redis", options{redisURL: "redis://127.0.0.1:1/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if s, c, _, err := openStore(ctx, tt.o); err == nil {
				if c != nil {
					c.Close()
				}
				t.Fatalf("got store %T, want an error", s)
			}
		})
	}
}
