package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzCookieHeader feeds arbitrary Cookie headers (chunks included) through
// the middleware: it must never panic, never answer anything but the
// handler's 200, and never produce a session other than the one really
// signed in.
func FuzzCookieHeader(f *testing.F) {
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Keys = [][]byte{[]byte(strings.Repeat("h", 32))}
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	header := func(p SignInParams) string {
		rec := httptest.NewRecorder()
		if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), p); err != nil {
			f.Fatal(err)
		}
		var parts []string
		for _, c := range rec.Result().Cookies() {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	small := header(SignInParams{Token: tokenOf("at", "rt", t0.Add(time.Hour)), User: &User{ID: "fuzz_user"}})
	big := header(SignInParams{Token: tokenOf(strings.Repeat("A", 5000), "rt", t0.Add(time.Hour)), User: &User{ID: "fuzz_user"}})
	for _, seed := range []string{
		small, big, "", "__Host-sessionkit=", "__Host-sessionkit.0=a; __Host-sessionkit.1=b",
		"__Host-sessionkit.63=x", `__Host-sessionkit="quoted"`, small + "; " + small, big + "; __Host-sessionkit.2=x",
	} {
		f.Add(seed)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := FromContext(r.Context()); ok && s.User.ID != "fuzz_user" {
			panic("forged session: " + s.User.ID)
		}
	}))
	f.Fuzz(func(t *testing.T, cookie string) {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", cookie)
		if rec := serve(h, req); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
	})
}

// FuzzPayload decodes arbitrary bytes as a session payload: never a panic,
// and whatever decodes re-encodes to a payload that decodes the same.
func FuzzPayload(f *testing.F) {
	s := &Session{
		ID: "sess_1", CreatedAt: t0, LastActiveAt: t0, ExpireAt: t0.Add(time.Hour), AbandonAt: t0.Add(time.Hour),
		Error: "RefreshAccessTokenError",
		SignIn: SignIn{ID: "a", User: User{ID: "u", Email: "e@x", EmailVerified: true}, AccessToken: "at", RefreshToken: "rt",
			AccessTokenExpiresAt: t0, Actor: &Actor{Subject: "adm"}, ActiveOrganizationID: "org"},
		OtherSignIns: []SignIn{{ID: "b", User: User{ID: "v", PhoneVerified: true}}},
	}
	f.Add(appendPayload(nil, s))
	f.Add([]byte{payloadVersion})
	f.Add([]byte{payloadVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		got, err := decodePayload(p)
		if err != nil {
			return
		}
		again, err := decodePayload(appendPayload(nil, got))
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip changed the session:\n%+v\n%+v", got, again)
		}
	})
}

// FuzzAuthorizationHeader feeds arbitrary Authorization headers through
// extraction and JWT verification: never a panic, never a 5xx, and never a
// session for anyone the real key did not sign for.
func FuzzAuthorizationHeader(f *testing.F) {
	clk := newClock()
	s := edSigner()
	cfg := Config{
		Now: clk.Now,
		Bearer: &JWTConfig{
			StaticKeys: []StaticKey{{ID: s.KID, Key: s.Public()}},
			Issuer:     testIssuer, Audience: []string{testAudience},
		},
	}
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	valid := s.Mint(f, claimsFor(t0))
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		"Bearer " + valid, "bearer " + valid, "Bearer", "Bearer ", "Basic Zm9vOmJhcg==",
		"Bearer " + parts[0] + "." + parts[1] + ".", "Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer " + strings.Repeat("a", 100), "Bearer a.b.c", "Bearer ....",
	} {
		f.Add(seed)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := FromContext(r.Context()); ok && (s.User.ID != "user_1" || s.Claims()["iss"] != testIssuer) {
			panic("forged bearer session")
		}
	}))
	f.Fuzz(func(t *testing.T, authz string) {
		req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
		req.Header["Authorization"] = []string{authz}
		if rec := serve(h, req); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
	})
}
