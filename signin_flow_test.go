package sessionkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/flow"
)

// startFlow sends GET /signin/oidc with query and header to h, carrying
// cookies, and returns the response.
func startFlow(h http.Handler, query string, header http.Header, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc"+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return serve(h, req)
}

// flowCookies returns the live and the expired flow cookies a response set.
func flowCookies(rec *httptest.ResponseRecorder) (set, expired []*http.Cookie) {
	for _, c := range rec.Result().Cookies() {
		if !strings.HasPrefix(c.Name, "__Host-sessionkit.oauth-state.") {
			continue
		}
		if c.MaxAge < 0 {
			expired = append(expired, c)
		} else {
			set = append(set, c)
		}
	}
	return set, expired
}

// openedFlow returns the payload of a flow cookie's value that m sealed,
// and nil for any other value.
func openedFlow(m *Manager, value string) []byte {
	b, _, err := m.cookies.flow.Open(value)
	if err != nil {
		return nil
	}
	return b
}

// A GET sign-in from another site starts a plain sign-in: the provider
// parameters and addAccount of a same-site link are not passed through.
func TestSignInCrossSiteGET(t *testing.T) {
	m, h := handlerManager(t, nil)
	const query = "?addAccount=true&prompt=none&login_hint=ada&max_age=0&acr_values=x&ui_locales=fr&callbackUrl=%2Fx"
	tests := []struct {
		site       string
		wantParams bool
	}{
		{"", true},
		{"none", true},
		{"same-origin", true},
		{"same-site", true},
		{"cross-site", false},
	}
	for _, tt := range tests {
		t.Run("Sec-Fetch-Site "+tt.site, func(t *testing.T) {
			hd := http.Header{}
			if tt.site != "" {
				hd.Set("Sec-Fetch-Site", tt.site)
			}
			rec := startFlow(h, query, hd, nil)
			if rec.Code != http.StatusFound {
				t.Fatalf("got %d %q, want 302", rec.Code, rec.Body)
			}
			loc, _ := url.Parse(rec.Header().Get("Location"))
			for _, k := range []string{"prompt", "login_hint", "max_age", "acr_values", "ui_locales"} {
				if got := loc.Query().Has(k); got != tt.wantParams {
					t.Errorf("%s passed to the provider: got %v, want %v", k, got, tt.wantParams)
				}
			}
			set, _ := flowCookies(rec)
			var f flow.State
			if len(set) != 1 || json.Unmarshal(openedFlow(m, set[0].Value), &f) != nil {
				t.Fatalf("flow cookie: got %v", set)
			}
			if f.Add != tt.wantParams || f.Callback != "https://app.example/x" {
				t.Errorf("flow: got Add %v, callback %q; want Add %v, callback https://app.example/x", f.Add, f.Callback, tt.wantParams)
			}
		})
	}
}

// Sign-ins started in several tabs of one browser coexist, up to
// flow.MaxFlows: a same-site start past that ends the oldest, a cross-site one
// ends none and is refused.
func TestSignInFlowsCoexist(t *testing.T) {
	clk := newClock()
	_, h := handlerManager(t, func(c *Config) { c.Now = clk.Now })
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	var jar []*http.Cookie
	for i := range flow.MaxFlows {
		clk.Advance(time.Second)
		hd := http.Header{}
		if i%2 == 1 {
			hd = crossSite // while there is room, a cross-site start ends nothing either
		}
		rec := startFlow(h, "", hd, jar)
		set, expired := flowCookies(rec)
		if rec.Code != http.StatusFound || len(set) != 1 || len(expired) != 0 {
			t.Fatalf("sign-in %d: got %d, set %d, expired %d; want 302, one new flow, none ended", i, rec.Code, len(set), len(expired))
		}
		jar = append(jar, set[0])
	}
	rec := startFlow(h, "", crossSite, jar)
	if set, expired := flowCookies(rec); rec.Code != http.StatusConflict || len(set) != 0 || len(expired) != 0 {
		t.Fatalf("cross-site start with %d in progress: got %d, set %d, expired %d; want 409 and no cookie touched", flow.MaxFlows, rec.Code, len(set), len(expired))
	}
	rec = startFlow(h, "", nil, jar)
	set, expired := flowCookies(rec)
	if rec.Code != http.StatusFound || len(set) != 1 || len(expired) != 1 || expired[0].Name != jar[0].Name {
		t.Fatalf("same-site start with %d in progress: got %d, set %d, expired %v; want 302 and the oldest (%s) ended", flow.MaxFlows, rec.Code, len(set), expired, jar[0].Name)
	}
	// A forged or unreadable flow cookie is cleared, never counted.
	junk := &http.Cookie{Name: "__Host-sessionkit.oauth-state.AAAAAAAAAAAA", Value: "forged"}
	rec = startFlow(h, "", crossSite, []*http.Cookie{junk})
	if set, expired := flowCookies(rec); rec.Code != http.StatusFound || len(set) != 1 || len(expired) != 1 || expired[0].Name != junk.Name {
		t.Fatalf("junk flow cookie: got %d, set %d, expired %v; want 302 and the junk cleared", rec.Code, len(set), expired)
	}
}

// The callback finds its own sign-in's cookie among several.
func TestSignInCallbackPicksItsFlow(t *testing.T) {
	_, h := handlerManager(t, nil)
	var jar []*http.Cookie
	var states []string
	for range 2 {
		rec := startFlow(h, "", nil, jar)
		set, _ := flowCookies(rec)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		jar, states = append(jar, set[0]), append(states, loc.Query().Get("state"))
	}
	for i, state := range states {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/oidc?error=access_denied&state="+state, nil)
		for _, c := range jar {
			req.AddCookie(c)
		}
		rec := serve(h, req)
		_, expired := flowCookies(rec)
		// access_denied is answered only after the state matched a flow.
		if rec.Code != http.StatusForbidden || len(expired) != 1 || expired[0].Name != jar[i].Name {
			t.Fatalf("callback of sign-in %d: got %d %q, expired %v; want 403 and its own cookie expired", i, rec.Code, rec.Body, expired)
		}
	}
}

// Without a Store a flow cookie serves one callback on this instance,
// even when the browser sends it again.
func TestSignInStateConsumedWithoutStore(t *testing.T) {
	_, h := handlerManager(t, nil)
	rec := startFlow(h, "", nil, nil)
	set, _ := flowCookies(rec)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	callback := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/oidc?error=access_denied&state="+loc.Query().Get("state"), nil)
		req.AddCookie(set[0])
		return serve(h, req)
	}
	if rec := callback(); rec.Code != http.StatusForbidden {
		t.Fatalf("first callback: got %d %q, want 403 (the provider's access_denied)", rec.Code, rec.Body)
	}
	if rec := callback(); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "InvalidCheck") {
		t.Fatalf("replayed flow cookie: got %d %q, want 400 InvalidCheck", rec.Code, rec.Body)
	}
}
