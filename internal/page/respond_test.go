package page

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type failingPage struct{}

func (failingPage) HTML() ([]byte, error) { return nil, errors.New("boom") }

func TestRender(t *testing.T) {
	tests := []struct {
		name       string
		page       Page
		status     int
		wantStatus int
		wantType   string
		wantCSP    bool
	}{
		{"page", Error{Status: 400, StatusText: "Bad Request", Code: "X", Message: "m"}, 400, 400, "text/html; charset=utf-8", true},
		{"template error", failingPage{}, 200, http.StatusInternalServerError, "text/plain; charset=utf-8", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Render(rec, tt.status, tt.page)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Content-Security-Policy") != ""; got != tt.wantCSP {
				t.Errorf("CSP set: got %v, want %v", got, tt.wantCSP)
			}
			if tt.wantCSP && rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("X-Frame-Options: got %q, want DENY", rec.Header().Get("X-Frame-Options"))
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusTeapot, map[string]string{"a": "b"})
	if rec.Code != http.StatusTeapot {
		t.Fatalf("status: got %d, want %d", rec.Code, http.StatusTeapot)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"a":"b"}` {
		t.Errorf("body: got %q, want %q", got, `{"a":"b"}`)
	}
}

func TestNoStore(t *testing.T) {
	h := http.Header{}
	h.Set("Vary", "Accept")
	NoStore(h)
	want := map[string]string{"Cache-Control": "private, no-cache, no-store", "Pragma": "no-cache", "Expires": "0", "X-Content-Type-Options": "nosniff"}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if got := h.Values("Vary"); len(got) != 2 || got[1] != "Cookie" {
		t.Errorf("Vary: got %q, want [Accept Cookie]", got)
	}
}

func TestUnauthorized(t *testing.T) {
	tests := []struct {
		name      string
		named     bool
		wantChall string
	}{
		{"plain", false, "Bearer"},
		{"named", true, `Bearer error="invalid_token", error_description="the token is invalid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Unauthorized(rec, http.StatusUnauthorized, "invalid_token", "the token is invalid", tt.named)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status: got %d, want 401", rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.wantChall)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"invalid_token","error_description":"the token is invalid"}` {
				t.Errorf("body: got %s", got)
			}
		})
	}
}
