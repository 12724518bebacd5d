package mint

import (
	"testing"
	"time"
)

func TestTemplateCheck(t *testing.T) {
	known := func(f string) bool { return f == "user.id" }
	tests := []struct {
		name string
		t    Template
		want string
	}{
		{"valid", Template{Audience: []string{"api"}, Fields: map[string]string{"uid": "user.id"}, Static: map[string]any{"x": 1}}, ""},
		{"no audience", Template{}, "Audience"},
		{"empty audience", Template{Audience: []string{"api", ""}}, "Audience[1]"},
		{"short lifetime", Template{Audience: []string{"api"}, Lifetime: time.Millisecond}, "Lifetime"},
		{"long lifetime", Template{Audience: []string{"api"}, Lifetime: 25 * time.Hour}, "Lifetime"},
		{"reserved field claim", Template{Audience: []string{"api"}, Fields: map[string]string{"sub": "user.id"}}, "Fields"},
		{"unknown field", Template{Audience: []string{"api"}, Fields: map[string]string{"x": "user.shoe"}}, "Fields"},
		{"reserved static claim", Template{Audience: []string{"api"}, Static: map[string]any{"org_id": "o"}}, "Static"},
		{"static not JSON", Template{Audience: []string{"api"}, Static: map[string]any{"f": func() {}}}, "Static"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			te := tt.t.Check(known)
			if te != nil {
				got = te.Field
			}
			if got != tt.want {
				t.Errorf("Check: got %q (%v), want %q", got, te, tt.want)
			}
			if te == nil && tt.t.Lifetime != DefaultLifetime {
				t.Errorf("Lifetime: got %s, want the default %s", tt.t.Lifetime, DefaultLifetime)
			}
		})
	}
}

func TestTemplateClaims(t *testing.T) {
	tpl := Template{Fields: map[string]string{"uid": "user.id", "mail": "user.email"}, Static: map[string]any{"tier": "gold"}}
	claims := tpl.Claims(func(f string) string { return map[string]string{"user.id": "u1"}[f] })
	if len(claims) != 2 || claims["uid"] != "u1" || claims["tier"] != "gold" {
		t.Errorf("Claims: got %v, want uid and tier, the empty mail left out", claims)
	}
	if err := Add(claims, map[string]any{"role": "admin"}); err != nil || claims["role"] != "admin" {
		t.Errorf("Add: got %v, %v; want role added", claims, err)
	}
	if err := Add(claims, map[string]any{"exp": 1}); err == nil {
		t.Error("Add: a reserved claim was accepted")
	}
	Scope{SessionID: "s", Workspace: "w", Actor: "admin"}.Set(claims)
	if claims["sid"] != "s" || claims["workspace_id"] != "w" || claims["org_id"] != nil {
		t.Errorf("Scope.Set: got %v, want sid and workspace_id, no org_id", claims)
	}
	if act, _ := claims["act"].(map[string]any); act["sub"] != "admin" {
		t.Errorf("Scope.Set: got act %v, want sub admin", claims["act"])
	}
}

func TestDefaultIssuer(t *testing.T) {
	tests := []struct{ url, base, want string }{
		{"", "/api/auth", "sessionkit"},
		{"https://app.example", "/api/auth", "https://app.example/api/auth"},
		{"https://app.example/", "/auth", "https://app.example/auth"},
	}
	for _, tt := range tests {
		if got := DefaultIssuer(tt.url, tt.base); got != tt.want {
			t.Errorf("DefaultIssuer(%q, %q): got %q, want %q", tt.url, tt.base, got, tt.want)
		}
	}
}
