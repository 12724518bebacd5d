package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// The demo's own pages and API carry the headers the library's pages
// carry: no MIME sniffing, no framing, a CSP.
func TestDemoSecurityHeaders(t *testing.T) {
	d := startDemo(t, "ada")
	b := newBrowser(t, d)
	b.get("/api/auth/signin/oidc?callbackUrl=%2F") // signed in: the protected routes answer 200
	for _, path := range []string{"/", "/protected", "/client", "/sessions", "/api/me", "/static/home.js", "/static/client.js", "/static/demo.css"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := b.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", resp.StatusCode)
			}
			h := resp.Header
			checks := []struct{ name, got, want string }{
				{"X-Content-Type-Options", h.Get("X-Content-Type-Options"), "nosniff"},
				{"X-Frame-Options", h.Get("X-Frame-Options"), "DENY"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
				}
			}
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy: got %q, want frame-ancestors 'none', script-src 'self' and nothing inline", csp)
			}
		})
	}
	// A refusal carries them too.
	resp, _ := newBrowser(t, d).get("/api/me", "Accept", "application/json")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("/api/me signed out: got %d, X-Frame-Options %q", resp.StatusCode, resp.Header.Get("X-Frame-Options"))
	}
}

// The pages run no inline script and carry no inline style, which the CSP
// would block: scripts and the stylesheet are files under /static/.
func TestDemoPagesHaveNoInlineScript(t *testing.T) {
	for _, file := range []string{"pages.go", "sessions.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "<script>") || strings.Contains(string(src), " onclick=") {
			t.Errorf("%s has an inline script: the CSP (script-src 'self') blocks it", file)
		}
		if strings.Contains(string(src), "<style") || strings.Contains(string(src), " style=") {
			t.Errorf("%s has an inline style: the CSP (style-src 'self') blocks it", file)
		}
	}
}

// The provider's ID token is no API credential: /api/me refuses it, and
// the opaque access token devoidc issues.
func TestDemoBearerRefusesIDToken(t *testing.T) {
	d := startDemo(t, "ada")
	b := newBrowser(t, d)
	b.get("/api/auth/signin/oidc?callbackUrl=%2F")
	req, _ := http.NewRequest(http.MethodGet, d.URL+"/", nil)
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := d.m.GetServerSession(req)
	if err != nil || s.IDToken == "" || s.AccessToken == "" {
		t.Fatalf("signed-in session: got %v, %v; want ID and access tokens", s, err)
	}
	for name, tok := range map[string]string{"ID token": s.IDToken, "access token": s.AccessToken} {
		resp, body := newBrowser(t, d).get("/api/me", "Authorization", "Bearer "+tok)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s as bearer: got %d %s, want 401", name, resp.StatusCode, body)
		}
	}
	// The template token names the demo's API as its audience.
	if aud := apiToken(t, b.get)["aud"]; !audienceHas(aud, d.URL+"/api") {
		t.Fatalf("api token aud: got %v, want %s/api", aud, d.URL)
	}
}

func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if x == want {
				return true
			}
		}
	}
	return false
}

// A client that sends its body too slowly, or keeps an idle keep-alive
// connection, is disconnected by the server's timeouts.
func TestDemoServerTimeouts(t *testing.T) {
	d := startDemoWith(t, options{autoLogin: "ada", timeouts: serverTimeouts{readHeader: 300 * time.Millisecond, read: 300 * time.Millisecond, idle: 300 * time.Millisecond}})
	addr := d.ln.Addr().String()
	tests := []struct {
		name string
		send string // written at once; the server must then close
	}{
		{"slow body", "POST /sessions/revoke-all HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf"},
		{"slow headers", "GET / HTTP/1.1\r\nHost: " + addr + "\r\n"},
		{"idle keep-alive", "GET /client HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(conn)
			if strings.HasSuffix(tt.send, "\r\n\r\n") { // a whole request: its response first
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				start = time.Now()
			}
			_, err = io.Copy(io.Discard, r)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %s", time.Since(start).Round(time.Millisecond))
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Fatalf("closed after %s, want well within 3s", el)
			}
		})
	}
}
