package sessionkit

import (
	"bytes"
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
	cfg.Keys = []KeyPair{{HashKey: []byte(strings.Repeat("h", 32)), BlockKey: []byte(strings.Repeat("b", 32))}}
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
	// small, sealed as before the current format.
	name, value, _ := strings.Cut(small, "=")
	payload, _, err := m.cookies.open(value)
	if err != nil {
		f.Fatal(err)
	}
	legacy := name + "=" + legacySeal(f, cfg.Keys[0], name, payload)
	for _, seed := range []string{
		small, big, legacy, "", "__Host-sessionkit=", "__Host-sessionkit.0=a; __Host-sessionkit.1=b",
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
	f.Add([]byte{payloadV1})
	f.Add([]byte{payloadV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
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
			StaticKeys: []StaticKey{{ID: s.kid, Key: s.public()}},
			Issuer:     testIssuer, Audience: []string{testAudience},
		},
	}
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	valid := s.mint(f, claimsFor(t0))
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

// FuzzCookieValue opens arbitrary session cookie values, in either format:
// never a panic, never a payload from a value no key sealed, and for the
// legacy format the same answer as gorilla/securecookie. Whatever payload
// is sealed, in the current format or (by securecookie) in the legacy one,
// opens to the same bytes.
func FuzzCookieValue(f *testing.F) {
	k1, k2 := cookieKeyGen(), cookieKeyGen()
	const name = "__Host-sessionkit"
	pairs := []KeyPair{k2, k1}
	c := codecFor(name, pairs...)
	p := []byte("a payload of some length, longer than one AES block")
	v2, err := codecFor(name, k1).seal(p)
	if err != nil {
		f.Fatal(err)
	}
	legacy := legacySeal(f, k1, name, p)
	for _, seed := range []string{v2, legacy, "", "A", "AAAA", "M", legacy[:len(legacy)/2], v2[:len(v2)-1], "MTcwMDAwMDAwMHx8"} {
		f.Add(seed, p)
	}
	f.Add(v2, []byte{})
	f.Fuzz(func(t *testing.T, value string, payload []byte) {
		got, key, isLegacy, err := c.openValue(value)
		if err == nil {
			if !isLegacy && value != v2 {
				// Only the seeded value was sealed in the current format.
				t.Fatalf("a value nobody sealed opened: %q", value)
			}
			if isLegacy {
				want, werr := legacyOpen(pairs[key], name, value)
				if werr != nil || !bytes.Equal(want, got) {
					t.Fatalf("opened to %d bytes, securecookie: %v", len(got), werr)
				}
			}
		} else if !strings.HasPrefix(value, "A") { // what openValue takes for the legacy format
			for _, k := range pairs {
				if want, werr := legacyOpen(k, name, value); werr == nil && len(want) > 0 {
					t.Fatalf("securecookie opens what we refuse (%v)", err)
				}
			}
		}
		payload = payload[:min(len(payload), 4096)]
		sealed, err := c.seal(payload)
		if err != nil {
			t.Fatal(err)
		}
		if got, reissue, err := c.open(sealed); err != nil || reissue || !bytes.Equal(got, payload) {
			t.Fatalf("round trip: reissue %v err %v", reissue, err)
		}
		if len(payload) > 0 {
			old := legacySeal(t, k2, name, payload)
			if got, reissue, err := c.open(old); err != nil || !reissue || !bytes.Equal(got, payload) {
				t.Fatalf("legacy round trip: reissue %v err %v", reissue, err)
			}
		}
	})
}
