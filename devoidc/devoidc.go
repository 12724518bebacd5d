// Package devoidc runs an OpenID Connect provider inside a Go process, for
// development and tests: the sessionkit demo signs users in with it when no
// real provider is configured, and sessionkit's own tests run their sign-in
// and refresh flows against it.
//
// It is a thin layer over the certified provider implementation of
// github.com/zitadel/oidc (package op) and its in-memory example storage:
// discovery, the authorization-code flow with PKCE, ID tokens signed with a
// fresh RSA key, a JWK Set, userinfo and refresh-token rotation are
// zitadel's. devoidc adds configurable token lifetimes, refresh-token reuse
// detection (replaying a rotated refresh token revokes the whole token
// family, as Auth0 and Okta do), a login page or automatic login, a
// remembered login that end_session ends, counters of token-endpoint calls
// and a record of authorization, revocation, introspection and end-session
// requests for tests, back-channel logout tokens, and the behaviours of
// other providers that clients must cope with (see Config).
//
// devoidc MUST NOT be used in production: users, passwords and tokens live
// in memory and the login page trusts whoever clicks.
package devoidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account of the provider.
type User struct {
	// ID is the user's subject ("sub").
	ID string
	// Username is the preferred_username and the login name.
	Username string
	// FirstName is the given_name.
	FirstName string
	// LastName is the family_name.
	LastName string
	// Email is the email claim.
	Email string
	// EmailVerified is the email_verified claim.
	EmailVerified bool
}

// Client is an OAuth client registered with the provider: a confidential
// web client that authenticates with its secret (HTTP Basic or form).
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client_secret.
	Secret string
	// RedirectURIs must match the authorization request's redirect_uri
	// exactly; http URIs are accepted.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end_session may send the browser
	// back to (post_logout_redirect_uri), matched exactly.
	PostLogoutRedirectURIs []string
}

// Config configures a Provider.
type Config struct {
	// Clients are the registered clients; at least one is required.
	Clients []Client
	// Users are the provider's accounts. Default: DefaultUsers.
	Users []User
	// AccessTokenTTL is the lifetime of access tokens. Default 5 minutes;
	// at least 2 s, because expires_in is counted in whole seconds.
	AccessTokenTTL time.Duration
	// IDTokenTTL is the lifetime of ID tokens. Default 1 hour.
	IDTokenTTL time.Duration
	// AutoLogin, when set, is the Username signed in at once, without a
	// login page (for tests). Default: a page with one button per user.
	AutoLogin string
	// IDTokenWithoutProfile keeps the profile and email claims out of ID
	// tokens, at the userinfo endpoint only, as oidc-provider does.
	IDTokenWithoutProfile bool
	// AuthorizationResponseIss puts "iss" in authorization responses and
	// advertises it in discovery (RFC 9207).
	AuthorizationResponseIss bool
	// OfflineAccessNeedsConsent drops the offline_access scope of an
	// authorization request whose prompt lacks "consent", as OpenID Connect
	// Core 11 lets a provider do: no refresh token is then issued.
	OfflineAccessNeedsConsent bool
	// RememberLogin, when set, keeps a browser signed in at the provider
	// (a cookie): its later authorization requests skip the login page,
	// unless they ask prompt=login or select_account, until end_session.
	RememberLogin bool
}

// DefaultUsers are the accounts of a provider configured without Users.
var DefaultUsers = []User{
	{ID: "user_ada", Username: "ada", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", EmailVerified: true},
	{ID: "user_grace", Username: "grace", FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com", EmailVerified: true},
}

// Provider is an OpenID Connect provider; it is an http.Handler serving
// the discovery document at /.well-known/openid-configuration, /authorize,
// /oauth/token, /keys, /userinfo, /revoke, /end_session and the login
// page at /login. It is safe for concurrent use.
type Provider struct {
	issuer  string
	store   *rotatingStore
	handler http.Handler
	users   []User

	codeCalls    atomic.Int64
	refreshCalls atomic.Int64
	ext          extensions
	received     received
}

// New returns a provider for issuer, the URL it is served at (scheme, host
// and port, no path; http is allowed).
func New(issuer string, cfg Config) (*Provider, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("devoidc: issuer %q must be an http(s) URL without a path", issuer)
	}
	if len(cfg.Clients) == 0 {
		return nil, errors.New("devoidc: no clients")
	}
	if cfg.Users == nil {
		cfg.Users = DefaultUsers
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = 5 * time.Minute
	}
	if cfg.AccessTokenTTL < 2*time.Second {
		return nil, errors.New("devoidc: AccessTokenTTL must be at least 2s")
	}
	if cfg.IDTokenTTL == 0 {
		cfg.IDTokenTTL = time.Hour
	}
	users := userStore{byID: map[string]*storage.User{}, byName: map[string]*storage.User{}}
	for _, x := range cfg.Users {
		su := &storage.User{ID: x.ID, Username: x.Username, FirstName: x.FirstName, LastName: x.LastName,
			Email: x.Email, EmailVerified: x.EmailVerified, PreferredLanguage: language.English}
		users.byID[x.ID], users.byName[x.Username] = su, su
	}
	if cfg.AutoLogin != "" && users.byName[cfg.AutoLogin] == nil {
		return nil, fmt.Errorf("devoidc: AutoLogin names no user %q", cfg.AutoLogin)
	}
	clients := map[string]*storage.Client{}
	for _, c := range cfg.Clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			return nil, errors.New("devoidc: a client needs an ID, a Secret and RedirectURIs")
		}
		clients[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
	}
	p := &Provider{issuer: u.Scheme + "://" + u.Host, users: cfg.Users}
	p.ext.cfg = cfg
	p.store = &rotatingStore{
		Storage:    storage.NewStorageWithClients(users, clients),
		accessTTL:  cfg.AccessTokenTTL,
		idTTL:      cfg.IDTokenTTL,
		noProfile:  cfg.IDTokenWithoutProfile,
		retired:    map[string]string{},
		current:    map[string]string{},
		family:     map[string]string{},
		client:     map[string]string{},
		users:      users,
		logins:     logins{remember: cfg.RememberLogin, user: map[string]string{}},
		postLogout: map[string][]string{},
	}
	for _, c := range cfg.Clients {
		p.store.postLogout[c.ID] = c.PostLogoutRedirectURIs
	}
	opCfg := &op.Config{
		CryptoKey:             sha256.Sum256([]byte(p.issuer + " devoidc")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedClaims:       op.DefaultSupportedClaims,
	}
	var opts []op.Option
	if u.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(opCfg, p.store, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devoidc: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if !p.store.resumeLogin(w, r) {
			p.login(w, r, cfg.AutoLogin)
		}
	})
	mux.Handle("/", provider)
	p.handler = mux
	return p, nil
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// ServeHTTP serves the provider's endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.received.record(r)
	if r.URL.Path == EndSessionPath {
		p.store.forgetLogin(w, r)
	}
	if r.URL.Path == "/oauth/token" && r.Method == http.MethodPost {
		switch r.PostFormValue("grant_type") {
		case "authorization_code":
			p.codeCalls.Add(1)
		case "refresh_token":
			p.refreshCalls.Add(1)
		}
	}
	w, r = p.extend(w, r)
	p.handler.ServeHTTP(w, r)
}

// CodeExchanges counts token-endpoint requests with the authorization_code
// grant.
func (p *Provider) CodeExchanges() int64 { return p.codeCalls.Load() }

// Refreshes counts token-endpoint requests with the refresh_token grant,
// successful or not.
func (p *Provider) Refreshes() int64 { return p.refreshCalls.Load() }

// RevokeRefreshTokens revokes every refresh token issued so far, as a user
// signing out at the provider would: their next use gets invalid_grant.
func (p *Provider) RevokeRefreshTokens() { p.store.revokeAll() }

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>devoidc sign-in</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto}button{display:block;margin:.5rem 0;padding:.5rem 1rem}</style>
</head><body>
<h1>Development provider</h1>
<p>Sign in as (no password: this provider is for development only):</p>
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
{{range .Users}}<button name="username" value="{{.Username}}" id="login-{{.Username}}">{{.FirstName}} {{.LastName}} ({{.Email}})</button>
{{end}}</form></body></html>`))

// login completes the auth request named by "id" as a user: AutoLogin's,
// or the one picked on the login page.
func (p *Provider) login(w http.ResponseWriter, r *http.Request, auto string) {
	id := r.FormValue("id")
	username := auto
	if username == "" {
		if r.Method != http.MethodPost {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = loginPage.Execute(w, struct {
				ID    string
				Users []User
			}{id, p.users})
			return
		}
		username = r.PostFormValue("username")
	}
	if err := p.store.completeLogin(username, id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.store.rememberLogin(w, username)
	http.Redirect(w, r, "/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// userStore is the example storage's user lookup over Config.Users.
type userStore struct {
	byID, byName map[string]*storage.User
}

func (u userStore) GetUserByID(id string) *storage.User         { return u.byID[id] }
func (u userStore) GetUserByUsername(name string) *storage.User { return u.byName[name] }
func (u userStore) ExampleClientID() string                     { return "service" }

// rotatingStore wraps the example storage with configurable lifetimes and
// refresh-token reuse detection.
type rotatingStore struct {
	*storage.Storage
	accessTTL, idTTL time.Duration
	noProfile        bool // IDTokenWithoutProfile

	users      userStore
	logins     logins
	postLogout map[string][]string // client ID -> post-logout redirect URIs

	mu      sync.Mutex
	retired map[string]string // rotated-out refresh token -> family
	current map[string]string // family -> live refresh token
	family  map[string]string // live refresh token -> family
	client  map[string]string // family -> client ID
}

type devClient struct {
	op.Client
	idTTL      time.Duration
	noProfile  bool
	postLogout []string
}

func (c devClient) PostLogoutRedirectURIs() []string { return c.postLogout }

func (c devClient) LoginURL(id string) string            { return "/login?id=" + url.QueryEscape(id) }
func (c devClient) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c devClient) IDTokenUserinfoClaimsAssertion() bool { return !c.noProfile }

func (s *rotatingStore) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return devClient{Client: c, idTTL: s.idTTL, noProfile: s.noProfile, postLogout: s.postLogout[id]}, nil
}

// completeLogin marks auth request id as authenticated by username.
func (s *rotatingStore) completeLogin(username, id string) error {
	// The example storage checks a password; devoidc users have none.
	return s.CheckUsernamePassword(username, "", id)
}

func (s *rotatingStore) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	id, _, err := s.Storage.CreateAccessToken(ctx, r)
	return id, time.Now().Add(s.accessTTL), err
}

func (s *rotatingStore) CreateAccessAndRefreshTokens(ctx context.Context, r op.TokenRequest, cur string) (string, string, time.Time, error) {
	id, next, _, err := s.Storage.CreateAccessAndRefreshTokens(ctx, r, cur)
	if err != nil {
		// Two refreshes racing with one token: the loser is refused.
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fam := s.family[cur]
	if cur == "" {
		fam = next
		if c, ok := r.(interface{ GetClientID() string }); ok {
			s.client[fam] = c.GetClientID()
		}
	} else {
		s.retired[cur] = fam
		delete(s.family, cur)
	}
	s.family[next], s.current[fam] = fam, next
	return id, next, time.Now().Add(s.accessTTL), nil
}

func (s *rotatingStore) TokenRequestByRefreshToken(ctx context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	fam, reused := s.retired[rt]
	live, cid := s.current[fam], s.client[fam]
	s.mu.Unlock()
	if reused {
		s.Storage.RevokeToken(ctx, live, "", cid)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token reuse detected")
	}
	return s.Storage.TokenRequestByRefreshToken(ctx, rt)
}

func (s *rotatingStore) revokeAll() {
	s.mu.Lock()
	live := make(map[string]string, len(s.current))
	for fam, rt := range s.current {
		live[rt] = s.client[fam]
	}
	s.mu.Unlock()
	for rt, cid := range live {
		s.Storage.RevokeToken(context.Background(), rt, "", cid)
	}
}
