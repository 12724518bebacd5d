package safeurl

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClientBodyLimit(t *testing.T) {
	tests := []struct {
		size    int
		tooLong bool
	}{{0, false}, {MaxBody - 1, false}, {MaxBody, false}, {MaxBody + 1, true}, {3 * MaxBody, true}}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, strings.Repeat("x", tt.size))
		}))
		resp, err := Client(nil, 5*time.Second).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		srv.Close()
		if tt.tooLong != errors.Is(err, ErrBodyTooLarge) || !tt.tooLong && len(body) != tt.size {
			t.Errorf("size %d: read %d bytes, %v; want too long %v", tt.size, len(body), err, tt.tooLong)
		}
	}
}

func TestClientRedirects(t *testing.T) {
	var target *httptest.Server
	target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hop":
			n := len(r.URL.Query().Get("n"))
			if n < 4 {
				http.Redirect(w, r, "/hop?n="+strings.Repeat("x", n+1), http.StatusFound)
				return
			}
		case "/away":
			http.Redirect(w, r, "http://idp.example/", http.StatusFound)
			return
		case "/post":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer target.Close()
	tests := []struct {
		name, method, path string
		ok                 bool
	}{
		{"one hop", http.MethodGet, "/post", true},
		{"too many hops", http.MethodGet, "/hop", false},
		{"to plain http elsewhere", http.MethodGet, "/away", false},
		{"a POST", http.MethodPost, "/post", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, target.URL+tt.path, strings.NewReader("secret=1"))
			resp, err := Client(nil, 5*time.Second).Do(req)
			if err == nil {
				_ = resp.Body.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("got %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestClientKeepsTheCallersPolicy(t *testing.T) {
	base := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := Client(base, time.Second)
	if c == base || c.Timeout != time.Minute || c.CheckRedirect == nil {
		t.Fatalf("got %+v; want a copy of base with its timeout and policy", c)
	}
	if base.Transport != nil {
		t.Fatal("Client changed the caller's client")
	}
	if d := Client(nil, 3*time.Second); d.Timeout != 3*time.Second {
		t.Fatalf("a new client's timeout is %v", d.Timeout)
	}
}
