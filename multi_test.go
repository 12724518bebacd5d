package sessionkit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/internal/flow"
	"golang.org/x/oauth2"
)

// sessionJSON reads GET /session with cookies.
func sessionJSON(t *testing.T, h http.Handler, cookies []*http.Cookie) map[string]any {
	t.Helper()
	rec := serve(h, requestWith("https://app.example/api/auth/session", cookies))
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("GET /session: %v", err)
	}
	return v
}

func TestScopeSwitchGoAPI(t *testing.T) {
	clk := newClock()
	m, _ := tokenManager(t, clk)
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u1"}, OrganizationID: "org_a", WorkspaceID: "ws_1"})
	tests := []struct {
		name      string
		kind      ScopeKind
		id        string
		want      error
		org, work string
	}{
		{"member org", ScopeOrganization, "org_b", nil, "org_b", ""},
		{"not a member", ScopeOrganization, "org_evil", ErrScopeForbidden, "org_a", "ws_1"},
		{"same org keeps workspace", ScopeOrganization, "org_a", nil, "org_a", "ws_1"},
		{"workspace", ScopeWorkspace, "ws_2", nil, "org_a", "ws_2"},
		{"leave org", ScopeOrganization, "", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := requestWith("https://app.example/", cookies)
			s, err := m.SwitchScope(httptest.NewRecorder(), req, tt.kind, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			if s.ActiveOrganizationID != tt.org || s.ActiveWorkspaceID != tt.work {
				t.Fatalf("got org %q workspace %q, want %q %q", s.ActiveOrganizationID, s.ActiveWorkspaceID, tt.org, tt.work)
			}
		})
	}
	// No hook: every switch is refused.
	plain := mustNew(t, testConfig(clk, ""))
	pc := signInCookies(t, plain, SignInParams{User: &User{ID: "u1"}})
	if _, err := plain.SwitchScope(httptest.NewRecorder(), requestWith("https://app.example/", pc), ScopeOrganization, "org_a"); !errors.Is(err, ErrScopeForbidden) || !strings.Contains(err.Error(), "AuthorizeScope") {
		t.Fatalf("without a hook: got %v, want ErrScopeForbidden naming AuthorizeScope", err)
	}
	// A panicking hook refuses, without crashing.
	cfg := testConfig(clk, "")
	cfg.AuthorizeScope = func(context.Context, *Session, ScopeKind, string) error { panic("boom") }
	pm := mustNew(t, cfg)
	pc = signInCookies(t, pm, SignInParams{User: &User{ID: "u1"}})
	if _, err := pm.SwitchScope(httptest.NewRecorder(), requestWith("https://app.example/", pc), ScopeWorkspace, "ws"); !errors.Is(err, ErrScopeForbidden) {
		t.Fatalf("panicking hook: got %v, want ErrScopeForbidden", err)
	}
	// Without a session.
	if _, err := m.SwitchScope(httptest.NewRecorder(), requestWith("https://app.example/", nil), ScopeOrganization, "org_a"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("no session: got %v, want ErrNoSession", err)
	}
}

func TestScopeSwitchHTTP(t *testing.T) {
	clk := newClock()
	m, h := tokenManager(t, clk)
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u1"}, OrganizationID: "org_a"})
	csrf, csrfCookie := csrfPair(t, h)
	tests := []struct {
		name    string
		path    string
		csrf    string
		cookies []*http.Cookie
		body    map[string]string
		code    int
		want    string
	}{
		{"switch org", "/api/auth/organization", csrf, cookies, map[string]string{"organizationId": "org_b"}, 200, `"activeOrganizationId":"org_b"`},
		{"not a member", "/api/auth/organization", csrf, cookies, map[string]string{"organizationId": "org_x"}, 403, `"Forbidden"`},
		{"workspace", "/api/auth/workspace", csrf, cookies, map[string]string{"workspaceId": "ws_9"}, 200, `"activeWorkspaceId":"ws_9"`},
		{"bad csrf", "/api/auth/organization", "wrong", cookies, map[string]string{"organizationId": "org_b"}, 403, "MissingCSRF"},
		{"no session", "/api/auth/organization", csrf, nil, map[string]string{"organizationId": "org_b"}, 401, "SessionRequired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postJSON(h, tt.path, tt.csrf, append(tt.cookies, csrfCookie), tt.body)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("got %d %q, want %d with %s", rec.Code, rec.Body, tt.code, tt.want)
			}
		})
	}
	rec := serve(h, requestWith("https://app.example/api/auth/organization", cookies))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /organization: got %d, want 405", rec.Code)
	}
}

func TestMultiSignIn(t *testing.T) {
	clk := newClock()
	m, h := tokenManager(t, clk)
	ctx := context.Background()
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u1", Email: "one@example.com"},
		Token: &oauth2.Token{AccessToken: "at-one"}, OrganizationID: "org_a"})
	first, _ := m.GetServerSession(requestWith("https://app.example/", cookies))
	tokBefore := mustToken(t, m, first, "api")

	rec := httptest.NewRecorder()
	s, err := m.AddSignIn(rec, requestWith("https://app.example/", cookies), SignInParams{User: &User{ID: "u2", Email: "two@example.com"},
		Token: &oauth2.Token{AccessToken: "at-two"}})
	if err != nil {
		t.Fatalf("AddSignIn: %v", err)
	}
	cookies = merge(cookies, rec)
	if s.ID == first.ID || len(s.SignIns()) != 2 || s.User.ID != "u2" || s.AccessToken != "at-two" || s.ActiveOrganizationID != "" {
		t.Fatalf("AddSignIn: got %+v, want the session under a new ID with u2 active", s)
	}
	got, _ := m.GetServerSession(requestWith("https://app.example/", cookies))
	if got.User.ID != "u2" || got.AccessToken != "at-two" || len(got.SignIns()) != 2 {
		t.Fatalf("after AddSignIn, the handler sees %+v, want u2 with its token", got.User)
	}
	if tok := mustToken(t, m, got, "api"); tok == tokBefore || claimsOf(t, tok)["sub"] != "u2" {
		t.Fatalf("token after AddSignIn: got sub %v, want a new token for u2", claimsOf(t, tok)["sub"])
	}
	v := sessionJSON(t, h, cookies)
	if ins, _ := v["signIns"].([]any); len(ins) != 2 || strings.Contains(asJSON(v), "at-one") {
		t.Fatalf("session JSON: got %v, want two sign-ins and no tokens", v)
	}

	// Switch back to u1, over HTTP: u1's token and organization come back.
	csrf, csrfCookie := csrfPair(t, h)
	rec = postJSON(h, "/api/auth/switch", csrf, append(cookies, csrfCookie), map[string]string{"signInId": first.SignIn.ID})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"activeOrganizationId":"org_a"`) {
		t.Fatalf("POST /switch: got %d %q", rec.Code, rec.Body)
	}
	cookies = merge(cookies, rec)
	got, _ = m.GetServerSession(requestWith("https://app.example/", cookies))
	if got.User.ID != "u1" || got.AccessToken != "at-one" || got.ActiveOrganizationID != "org_a" {
		t.Fatalf("after the switch: got %+v, want u1 with at-one in org_a", got)
	}
	if tok := mustToken(t, m, got, "api"); tok == tokBefore {
		t.Fatal("a token minted before the switches came back after them")
	}
	for _, tt := range []struct {
		name string
		body map[string]string
		code int
	}{
		{"unknown sign-in", map[string]string{"signInId": "sin_nope"}, 404},
		{"no signInId", nil, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if rec := postJSON(h, "/api/auth/switch", csrf, append(cookies, csrfCookie), tt.body); rec.Code != tt.code {
				t.Fatalf("got %d %q, want %d", rec.Code, rec.Body, tt.code)
			}
		})
	}

	// Sign u1 (active) out: u2 becomes active.
	rec = postJSON(h, "/api/auth/signout", csrf, append(cookies, csrfCookie), map[string]string{"signInId": first.SignIn.ID})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"id":"u2"`) {
		t.Fatalf("POST /signout one: got %d %q", rec.Code, rec.Body)
	}
	cookies = merge(cookies, rec)
	got, _ = m.GetServerSession(requestWith("https://app.example/", cookies))
	if got.User.ID != "u2" || len(got.SignIns()) != 1 {
		t.Fatalf("after signing u1 out: got %+v", got)
	}
	// The last one: a full sign-out.
	rec = httptest.NewRecorder()
	out, err := m.SignOutOne(rec, requestWith("https://app.example/", cookies), got.SignIn.ID)
	if err != nil || out != nil {
		t.Fatalf("SignOutOne(last): got %v, %v; want nil, nil", out, err)
	}
	if _, err := m.GetServerSession(requestWith("https://app.example/", merge(cookies, rec))); err == nil {
		t.Fatal("after the last sign-out the session is still there")
	}
	if _, err := m.GetToken(ctx, nil, "api"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("GetToken without a session: got %v", err)
	}
}

func TestAddSignInLimits(t *testing.T) {
	clk := newClock()
	m, _ := tokenManager(t, clk)
	// Without a session AddSignIn starts one.
	rec := httptest.NewRecorder()
	s, err := m.AddSignIn(rec, requestWith("https://app.example/", nil), SignInParams{User: &User{ID: "u0"}})
	if err != nil || len(s.SignIns()) != 1 {
		t.Fatalf("AddSignIn without a session: got %v, %v", s, err)
	}
	cookies := rec.Result().Cookies()
	// The same account again replaces its sign-in.
	rec = httptest.NewRecorder()
	s, err = m.AddSignIn(rec, requestWith("https://app.example/", cookies), SignInParams{User: &User{ID: "u0", Name: "Zero"}})
	if err != nil || len(s.SignIns()) != 1 || s.User.Name != "Zero" {
		t.Fatalf("AddSignIn of the same user: got %+v, %v", s, err)
	}
	cookies = merge(cookies, rec)
	for i := 1; ; i++ {
		rec = httptest.NewRecorder()
		_, err = m.AddSignIn(rec, requestWith("https://app.example/", cookies), SignInParams{User: &User{ID: "u" + string(rune('a'+i))}})
		if err != nil {
			if !errors.Is(err, ErrSessionTooLarge) || i != maxSignIns {
				t.Fatalf("sign-in %d: got %v, want ErrSessionTooLarge at %d", i, err, maxSignIns)
			}
			break
		}
		cookies = merge(cookies, rec)
	}
	if _, err := m.SwitchSignIn(httptest.NewRecorder(), requestWith("https://app.example/", cookies), "sin_nope"); !errors.Is(err, ErrSignInNotFound) {
		t.Fatalf("SwitchSignIn(unknown): got %v", err)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSignInFlowAddAccount(t *testing.T) {
	m, h := handlerManager(t, nil)
	for _, tt := range []struct {
		name  string
		query string
		add   bool
	}{
		{"replace", "", false},
		{"add", "?addAccount=true", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc"+tt.query, nil))
			if rec.Code != http.StatusFound {
				t.Fatalf("GET /signin/oidc: got %d %q, want 302", rec.Code, rec.Body)
			}
			var f flow.State
			found := false
			for _, c := range rec.Result().Cookies() {
				if !strings.HasPrefix(c.Name, "__Host-sessionkit.oauth-state.") {
					continue
				}
				if b, _, err := m.cookies.flow.Open(c.Value); err == nil {
					found = json.Unmarshal(b, &f) == nil
				}
			}
			if !found || f.Add != tt.add {
				t.Fatalf("flow: got %+v (found %v), want Add %v", f, found, tt.add)
			}
		})
	}
}
