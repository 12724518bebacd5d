package sessionkit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/store"
)

const (
	bclIssuer   = "https://idp.example"
	bclClientID = "app-client"
)

// bclProvider is an OpenID Connect provider's keys, served as a JWK Set.
type bclProvider struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
}

func newBCLProvider(t testing.TB) *bclProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &bclProvider{key: key}
	b64 := base64.RawURLEncoding.EncodeToString
	p.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(p.jwks.Close)
	return p
}

func sign(t testing.TB, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func logoutClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": bclIssuer, "aud": bclClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(), "sid": "idp-sid-1", "sub": "user-1",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// newBCLManager returns a Manager on a memstore whose provider is idp,
// closed when t ends.
func newBCLManager(t testing.TB, idp *bclProvider, mods ...func(*sessionkit.Config)) *sessionkit.Manager {
	t.Helper()
	keys := []byte(rand.Text() + rand.Text())
	cfg := sessionkit.Config{
		Keys:   [][]byte{keys},
		Store:  newMemStore(t),
		Logger: slog.New(slog.DiscardHandler),
		Providers: []sessionkit.Provider{{ID: "oidc", Issuer: bclIssuer, ClientID: bclClientID,
			AuthURL: bclIssuer + "/authorize", TokenURL: bclIssuer + "/token", JWKSURL: idp.jwks.URL}},
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	m, err := sessionkit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// postLogout posts token to h's back-channel logout endpoint.
func postLogout(h http.Handler, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/backchannel-logout",
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBackChannelLogout(t *testing.T) {
	idp := newBCLProvider(t)
	m := newBCLManager(t, idp)
	h := m.Handler()

	// addSignIn signs sub in to the session of cookies (a new one if
	// none), with an ID token that carries the provider session sid.
	addSignIn := func(t *testing.T, cookies []*http.Cookie, sub, sid string) []*http.Cookie {
		t.Helper()
		now := time.Now()
		idt := sign(t, idp.key, jwt.MapClaims{"iss": bclIssuer, "aud": bclClientID, "sub": sub, "sid": sid,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		tok := (&oauth2.Token{AccessToken: "at", TokenType: "Bearer"}).WithExtra(map[string]any{"id_token": idt})
		rec := httptest.NewRecorder()
		if _, err := m.AddSignIn(rec, cookieRequest(cookies), sessionkit.SignInParams{Provider: "oidc", Token: tok}); err != nil {
			t.Fatalf("AddSignIn: %v", err)
		}
		return rec.Result().Cookies()
	}
	signIn := func(t *testing.T, sub, sid string) []*http.Cookie { return addSignIn(t, nil, sub, sid) }
	session := func(cookies []*http.Cookie) *sessionkit.Session {
		s, err := m.GetServerSession(cookieRequest(cookies))
		if err != nil {
			return nil
		}
		return s
	}
	active := func(cookies []*http.Cookie) bool { return session(cookies) != nil }
	post := func(token string) *httptest.ResponseRecorder { return postLogout(h, token) }

	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	valid := sign(t, idp.key, logoutClaims(nil))
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"forged signature", sign(t, forger, logoutClaims(nil)), http.StatusBadRequest},
		{"wrong audience", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { c["aud"] = "another-app" })), http.StatusBadRequest},
		{"unknown issuer", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), http.StatusBadRequest},
		{"nonce present", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { c["nonce"] = "n" })), http.StatusBadRequest},
		{"no events", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "events") })), http.StatusBadRequest},
		{"wrong event", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { c["events"] = map[string]any{"x": map[string]any{}} })), http.StatusBadRequest},
		{"no sid nor sub", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "sid"); delete(c, "sub") })), http.StatusBadRequest},
		{"no jti", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "jti") })), http.StatusBadRequest},
		{"no iat", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "iat") })), http.StatusBadRequest},
		{"expired", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), http.StatusBadRequest},
		{"no exp, not allowed", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "exp") })), http.StatusBadRequest},
		{"not a JWT", "garbage", http.StatusBadRequest},
		{"missing", "", http.StatusBadRequest},
	}
	victim := signIn(t, "user-1", "idp-sid-1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(tt.token)
			if rec.Code != tt.want {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
				t.Fatalf("body: got %q, want a JSON error", rec.Body)
			}
			if !active(victim) {
				t.Fatal("a refused logout token signed the user out")
			}
		})
	}

	other := signIn(t, "user-2", "idp-sid-2")
	t.Run("valid sid", func(t *testing.T) {
		if rec := post(valid); rec.Code != http.StatusOK {
			t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body)
		}
		if active(victim) {
			t.Fatal("the session of the logged-out sid is still active")
		}
		if !active(other) {
			t.Fatal("another provider session was signed out too")
		}
	})
	t.Run("replayed", func(t *testing.T) {
		if rec := post(valid); rec.Code != http.StatusBadRequest {
			t.Fatalf("status: got %d, want 400", rec.Code)
		}
	})
	t.Run("valid sub only", func(t *testing.T) {
		a, b := signIn(t, "user-3", "idp-sid-3"), signIn(t, "user-3", "idp-sid-4")
		tok := sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "sid"); c["sub"] = "user-3" }))
		if rec := post(tok); rec.Code != http.StatusOK {
			t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body)
		}
		if active(a) || active(b) {
			t.Fatal("a session of the logged-out user is still active")
		}
		if !active(other) {
			t.Fatal("another user was signed out too")
		}
	})
	// A browser signed in to several accounts: a logout signs out the
	// account it names, active or not, and the others stay signed in.
	t.Run("several accounts", func(t *testing.T) {
		c := addSignIn(t, signIn(t, "user-5", "idp-sid-5"), "user-6", "idp-sid-6")
		accounts := func(want ...string) {
			t.Helper()
			s := session(c)
			if s == nil {
				t.Fatalf("got no session, want accounts %q", want)
			}
			var got []string
			for _, in := range s.SignIns() {
				got = append(got, in.User.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got accounts %q, want %q", got, want)
			}
		}
		accounts("user-5", "user-6")
		logout := func(claims func(jwt.MapClaims)) {
			t.Helper()
			if rec := post(sign(t, idp.key, logoutClaims(claims))); rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body)
			}
		}
		// The active account's provider session.
		logout(func(c jwt.MapClaims) { c["sid"], c["sub"] = "idp-sid-6", "user-6" })
		accounts("user-5")
		if s := session(c); s.User.ID != "user-5" {
			t.Fatalf("active account: got %s, want user-5", s.User.ID)
		}
		// An account that is not the active one, by sub alone.
		c = addSignIn(t, c, "user-7", "idp-sid-7")
		logout(func(c jwt.MapClaims) { delete(c, "sid"); c["sub"] = "user-5" })
		accounts("user-7")
		// The last account: the session is revoked.
		logout(func(c jwt.MapClaims) { c["sid"], c["sub"] = "idp-sid-7", "user-7" })
		if active(c) {
			t.Fatal("the session of the last account logged out is still active")
		}
	})
}

func TestBackChannelLogoutNeedsStore(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{keys}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.BackChannelLogout(context.Background(), "x"); !errors.Is(err, sessionkit.ErrNotConfigured) {
		t.Fatalf("got %v, want ErrNotConfigured", err)
	}
	for _, f := range []func() error{
		func() error { return m.Revoke(context.Background(), "id") },
		func() error { return m.RevokeUser(context.Background(), "u") },
		func() error { _, err := m.ListSessions(context.Background(), "u"); return err },
	} {
		if err := f(); !errors.Is(err, sessionkit.ErrNotConfigured) {
			t.Fatalf("got %v, want ErrNotConfigured", err)
		}
	}
}

// With AllowLogoutTokenWithoutExp, a logout token without exp is accepted
// while its iat is recent, once; a refused one is logged with its reason.
func TestBackChannelLogoutWithoutExp(t *testing.T) {
	idp := newBCLProvider(t)
	var logs bytes.Buffer
	m := newBCLManager(t, idp, func(c *sessionkit.Config) {
		c.Providers[0].AllowLogoutTokenWithoutExp = true
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	h := m.Handler()
	noExp := func(iat time.Time) string {
		return sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "exp"); c["iat"] = iat.Unix() }))
	}
	recent := noExp(time.Now().Add(-time.Minute))
	tests := []struct {
		name, token string
		want        int
		reason      string // in the log of a refusal
	}{
		{"recent iat", recent, http.StatusOK, ""},
		{"replayed", recent, http.StatusBadRequest, "replayed"},
		{"iat too old", noExp(time.Now().Add(-3 * time.Minute)), http.StatusBadRequest, "no exp and its iat is missing or too old"},
		{"no iat", sign(t, idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "exp"); delete(c, "iat") })), http.StatusBadRequest, "iat"},
		{"with exp", sign(t, idp.key, logoutClaims(nil)), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			rec := postLogout(h, tt.token)
			if rec.Code != tt.want {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
			got := logs.String()
			if tt.reason != "" && (!strings.Contains(got, "logout token refused") || !strings.Contains(got, tt.reason)) {
				t.Fatalf("log: got %q, want the refusal with %q", got, tt.reason)
			}
			if strings.Contains(got, tt.token[len(tt.token)-20:]) {
				t.Fatal("the log holds the token")
			}
		})
	}
}

// listDownStore is a memstore whose ListByProviderSession fails while down
// is set.
type listDownStore struct {
	*memstore.Store
	down atomic.Bool
}

func (s *listDownStore) ListByProviderSession(ctx context.Context, psid string) ([]store.Record, error) {
	if s.down.Load() {
		return nil, errors.New("dial tcp 127.0.0.1:6379: connection refused")
	}
	return s.Store.ListByProviderSession(ctx, psid)
}

// A logout the Store failed to carry out is carried out by the provider's
// retry of the same token, which is not taken for a replay; a replay after
// it is refused.
func TestBackChannelLogoutRetryAfterStoreFailure(t *testing.T) {
	idp := newBCLProvider(t)
	backend := &listDownStore{Store: newMemStore(t)}
	m := newBCLManager(t, idp, func(c *sessionkit.Config) { c.Store = backend })
	now := time.Now()
	idt := sign(t, idp.key, jwt.MapClaims{"iss": bclIssuer, "aud": bclClientID, "sub": "user-1", "sid": "idp-sid-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	tok := (&oauth2.Token{AccessToken: "at", TokenType: "Bearer"}).WithExtra(map[string]any{"id_token": idt})
	rec := httptest.NewRecorder()
	if _, err := m.AddSignIn(rec, cookieRequest(nil), sessionkit.SignInParams{Provider: "oidc", Token: tok}); err != nil {
		t.Fatalf("AddSignIn: %v", err)
	}
	cookies := rec.Result().Cookies()
	logout := sign(t, idp.key, logoutClaims(nil))
	backend.down.Store(true)
	// Section 2.8: a failed logout answers 400; the provider may retry.
	if got := postLogout(m.Handler(), logout); got.Code != http.StatusBadRequest || !strings.Contains(got.Body.String(), "logout_failed") {
		t.Fatalf("with the store down: got %d %s, want 400 logout_failed", got.Code, got.Body)
	}
	if _, err := m.GetServerSession(cookieRequest(cookies)); err != nil {
		t.Fatalf("the session ended although the logout failed: %v", err)
	}
	backend.down.Store(false)
	if got := postLogout(m.Handler(), logout).Code; got != http.StatusOK {
		t.Fatalf("the provider's retry: got %d, want 200", got)
	}
	if s, err := m.GetServerSession(cookieRequest(cookies)); err == nil {
		t.Fatalf("the session is still active after the retry: %+v", s.Status)
	}
	if got := postLogout(m.Handler(), logout).Code; got != http.StatusBadRequest {
		t.Fatalf("a replay: got %d, want 400", got)
	}
}
