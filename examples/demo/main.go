// Command demo is a small web app on sessionkit: sign in with OpenID
// Connect, see the session on a server-rendered page, call a protected
// JSON API, watch a client page poll the session the way useSession()
// does, switch between the demo organizations (org_acme, org_globex) and
// between several signed-in accounts ("Add another account"), mint a JWT
// from the token template "api" (GET /api/auth/token?template=api, keys at
// /api/auth/jwks.json), and sign out. It needs no setup:
//
//	go run ./examples/demo
//
// then open http://127.0.0.1:8080. Without configuration it starts an
// embedded development OpenID Connect provider (devoidc) on another
// loopback port, with a login page to pick a demo user and short token
// lifetimes (1-minute access tokens by default, SESSIONKIT_DEV_TOKEN_TTL
// to change), so that the home page shows refreshes happen; it is for
// development only and MUST NOT be used in production.
//
// GET /metrics serves sessionkit's metrics in Prometheus's text format
// (docs/observability.md has the queries to start with).
//
// Environment:
//
//	SESSIONKIT_ADDR                 listen address (default 127.0.0.1:8080)
//	SESSIONKIT_URL                  public origin, when not http://<SESSIONKIT_ADDR>
//	SESSIONKIT_SECRET               cookie secret, at least 32 bytes (default: ephemeral)
//	SESSIONKIT_OIDC_ISSUER          a real provider instead of devoidc; its redirect URI
//	SESSIONKIT_OIDC_CLIENT_ID       is <URL>/api/auth/callback/oidc, for example
//	SESSIONKIT_OIDC_CLIENT_SECRET   http://127.0.0.1:8080/api/auth/callback/oidc
//	SESSIONKIT_REDIS_URL            keep sessions in Redis (redisstore), e.g. redis://127.0.0.1:6379/0
//	SESSIONKIT_STORE                memory: keep sessions in this process (memstore);
//	                                cookie: stateless cookies even with SESSIONKIT_REDIS_URL
//	SESSIONKIT_DEV_TOKEN_TTL        devoidc's access token lifetime, a Go duration of at
//	                                least 2s (default 1m); ignored with a real provider
//	SESSIONKIT_OIDC_LOGOUT          true: signing out signs out at the provider too
//	                                (Provider.Logout; register <URL>/ as post-logout URI)
//
// A request refreshes the access token once it expires within a minute
// (Config.RefreshLeeway), but not before half its lifetime has passed: 30 s
// after it was issued with the default lifetime. With
// SESSIONKIT_DEV_TOKEN_TTL=10s, reloading the home page every few seconds
// shows the token's fingerprint and its "last refreshed" time change about
// every 5 s.
//
// By default sessions live in stateless cookies, as with Auth.js: nothing
// to run beside the demo. With SESSIONKIT_REDIS_URL (or
// SESSIONKIT_STORE=memory) they live on the server, and the Sessions page
// (/sessions, JSON at /api/sessions) lists the user's sessions and signs
// them out everywhere. Run several demos on one Redis with one
// SESSIONKIT_SECRET and they share their sessions.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, options{
		addr:         envOr("SESSIONKIT_ADDR", "127.0.0.1:8080"),
		url:          os.Getenv("SESSIONKIT_URL"),
		secret:       os.Getenv("SESSIONKIT_SECRET"),
		issuer:       os.Getenv("SESSIONKIT_OIDC_ISSUER"),
		clientID:     os.Getenv("SESSIONKIT_OIDC_CLIENT_ID"),
		clientSecret: os.Getenv("SESSIONKIT_OIDC_CLIENT_SECRET"),
		redisURL:     os.Getenv("SESSIONKIT_REDIS_URL"),
		store:        os.Getenv("SESSIONKIT_STORE"),
		devTokenTTL:  os.Getenv("SESSIONKIT_DEV_TOKEN_TTL"),
		logout:       os.Getenv("SESSIONKIT_OIDC_LOGOUT") == "true",
	}); err != nil {
		logger.Error("demo stopped", "error", err)
		os.Exit(1)
	}
}

// options configure the demo.
type options struct {
	addr, url, secret              string
	issuer, clientID, clientSecret string // empty issuer: the embedded devoidc
	autoLogin                      string // devoidc: sign this user in without the login page (tests)
	devTokenTTL                    string // SESSIONKIT_DEV_TOKEN_TTL: devoidc's access token lifetime; see parseDevTokenTTL
	nullSession                    bool   // answer null for no session (Auth.js v5 clients)
	store                          string // SESSIONKIT_STORE: "", memory, redis or cookie
	redisURL                       string // SESSIONKIT_REDIS_URL
	redisPrefix                    string // redisstore's key prefix (tests); default redisstore.DefaultPrefix
	timeouts                       serverTimeouts
	logout                         bool // SESSIONKIT_OIDC_LOGOUT=true: sign-out signs out at the provider too
}

// serverTimeouts bound how long a client may hold a connection: reading the
// headers, reading the whole request, writing the response, and idling
// between keep-alive requests. Zero fields take the defaults of server.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// server returns an http.Server for h with the timeouts: by default 5 s
// for the headers, 15 s for the whole request, 30 s for the response (a
// token refresh may take the HTTP client's 10 s) and 60 s of idling.
func (t serverTimeouts) server(h http.Handler) *http.Server {
	or := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(t.readHeader, 5*time.Second),
		ReadTimeout:       or(t.read, 15*time.Second),
		WriteTimeout:      or(t.write, 30*time.Second),
		IdleTimeout:       or(t.idle, 60*time.Second),
		MaxHeaderBytes:    64 << 10,
	}
}

// defaultDevTokenTTL is the lifetime of devoidc's access tokens without
// SESSIONKIT_DEV_TOKEN_TTL.
const defaultDevTokenTTL = time.Minute

// minDevTokenTTL is the shortest SESSIONKIT_DEV_TOKEN_TTL: devoidc counts
// expires_in in whole seconds and refuses shorter lifetimes.
const minDevTokenTTL = 2 * time.Second

// parseDevTokenTTL reads SESSIONKIT_DEV_TOKEN_TTL: empty means
// defaultDevTokenTTL, anything else must be a Go duration ("30s", "2m") of
// at least minDevTokenTTL.
func parseDevTokenTTL(v string) (time.Duration, error) {
	if v == "" {
		return defaultDevTokenTTL, nil
	}
	ttl, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("SESSIONKIT_DEV_TOKEN_TTL=%q is not a Go duration such as 30s or 2m", v)
	}
	if ttl < minDevTokenTTL {
		return 0, fmt.Errorf("SESSIONKIT_DEV_TOKEN_TTL=%q is too short: the access token lifetime must be at least %s", v, minDevTokenTTL)
	}
	return ttl, nil
}

// demo is the running application and, without a real provider, the
// embedded one.
type demo struct {
	URL    string // the app's public origin
	Issuer string
	m      *sessionkit.Manager
	idp    *devoidc.Server
	srv    *http.Server
	ln     net.Listener
	tr     *http.Transport
	store  io.Closer // nil for stateless cookies
}

func run(ctx context.Context, logger *slog.Logger, o options) error {
	d, err := start(ctx, logger, o)
	if err != nil {
		return err
	}
	logger.Info("demo listening", "url", d.URL, "provider", d.Issuer)
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(d.ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		logger.Info("shutting down")
	}
	d.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// start listens on o.addr, starts devoidc unless a real provider is
// configured, and builds the Manager and the handler. The caller serves
// d.srv on d.ln and calls Close.
func start(ctx context.Context, logger *slog.Logger, o options) (*demo, error) {
	ttl, err := parseDevTokenTTL(o.devTokenTTL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	d := &demo{ln: ln, URL: "http://" + ln.Addr().String(), tr: &http.Transport{}}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	if o.url != "" {
		d.URL = strings.TrimSuffix(o.url, "/")
	}
	secret := o.secret
	if secret == "" {
		secret = rand.Text() + rand.Text()
		logger.Warn("SESSIONKIT_SECRET is not set: using an ephemeral key; sessions end when the demo stops")
	}
	keys := []byte(secret)
	provider := sessionkit.Provider{ID: "oidc", Name: "OpenID Connect",
		Issuer: o.issuer, ClientID: o.clientID, ClientSecret: o.clientSecret,
		Scopes: []string{"openid", "profile", "email", "offline_access"}, Logout: o.logout}
	if o.issuer == "" {
		provider.Name, provider.ClientID, provider.ClientSecret = "Development provider (devoidc)", "demo", rand.Text()
		d.idp, err = devoidc.Listen("127.0.0.1:0", devoidc.Config{
			Clients: []devoidc.Client{{ID: provider.ClientID, Secret: provider.ClientSecret,
				RedirectURIs: []string{d.URL + "/api/auth/callback/oidc"}, PostLogoutRedirectURIs: []string{d.URL + "/"}}},
			AccessTokenTTL: ttl,
			AutoLogin:      o.autoLogin,
			RememberLogin:  true, // as real providers do: signing in again skips the login page
		})
		if err != nil {
			return nil, err
		}
		provider.Issuer = d.idp.URL()
		logger.Warn("using the embedded development OpenID Connect provider (devoidc): not for production", "issuer", provider.Issuer, "access_token_ttl", ttl)
	} else if o.clientID == "" {
		return nil, errors.New("SESSIONKIT_OIDC_ISSUER is set but SESSIONKIT_OIDC_CLIENT_ID is not")
	} else if o.devTokenTTL != "" {
		logger.Warn("SESSIONKIT_DEV_TOKEN_TTL is ignored: token lifetimes are the provider's", "issuer", o.issuer)
	}
	d.Issuer = provider.Issuer
	store, closer, storeName, err := openStore(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	d.store = closer
	logger.Info("sessions", "kept_in", storeName)
	client := &http.Client{Transport: d.tr, Timeout: 10 * time.Second}

	// /api/me also accepts the provider's JWT access tokens as bearer
	// credentials: RFC 9068 tokens only (typ at+jwt) whose audience is this
	// client, never its ID tokens. devoidc, like many providers, issues
	// opaque access tokens, which the bearer path refuses: with it, /api/me
	// answers cookie sessions only.
	var bearer *sessionkit.JWTConfig
	if jwks, err := discoverJWKS(ctx, client, provider.Issuer); err != nil {
		logger.Warn("bearer tokens disabled: the provider's JWKS could not be discovered", "error", err)
	} else {
		bearer = &sessionkit.JWTConfig{JWKSURLs: []string{jwks}, Issuer: provider.Issuer, Audience: []string{provider.ClientID},
			RequireAccessTokenType: true}
	}
	u, _ := url.Parse(d.URL)
	insecure := u.Scheme == "http" && isLoopbackHost(u.Hostname())
	if insecure {
		// Safari keeps no Secure cookie from http://127.0.0.1; real
		// deployments keep the default (Secure, __Host- prefix) on HTTPS.
		logger.Warn("development mode: cookies without Secure, for plain HTTP on loopback")
	}
	tokens, err := tokenConfig(secret, d.URL)
	if err != nil {
		return nil, err
	}
	observer, metrics, err := newMetrics()
	if err != nil {
		return nil, err
	}
	d.m, err = sessionkit.New(sessionkit.Config{
		Observer:        observer,
		Keys:            [][]byte{keys},
		Store:           store,
		URL:             d.URL,
		Providers:       []sessionkit.Provider{provider},
		Bearer:          bearer,
		InsecureCookies: insecure,
		NullSession:     o.nullSession,
		Lifetime:        24 * time.Hour,
		IdleTimeout:     time.Hour,
		HTTPClient:      client,
		Logger:          logger,
		Tokens:          tokens,
		AuthorizeScope:  authorizeScope,
		Callbacks: sessionkit.Callbacks{
			OnSignIn: func(ctx context.Context, s *sessionkit.Session) {
				logger.InfoContext(ctx, "signed in", "user", s.User.ID)
			},
			OnSignOut: func(ctx context.Context, s *sessionkit.Session) { logger.InfoContext(ctx, "signed out") },
			OnSessionExpired: func(ctx context.Context, s *sessionkit.Session) {
				logger.InfoContext(ctx, "session expired", "user", s.User.ID)
			},
		},
	})
	if err != nil {
		return nil, err
	}
	sp, err := newSessionsPage(d.m, secret, logger)
	if err != nil {
		return nil, err
	}
	d.srv = o.timeouts.server(canonicalHost(u.Host, newHandler(d.m, sp, metrics)))
	ok = true
	return d, nil
}

// demoOrganizations are the organizations every demo user may act in.
var demoOrganizations = []string{"org_acme", "org_globex"}

// authorizeScope lets every user switch to one of demoOrganizations (or
// leave the organization); a real application checks a membership.
func authorizeScope(_ context.Context, _ *sessionkit.Session, kind sessionkit.ScopeKind, id string) error {
	if kind != sessionkit.ScopeOrganization {
		return errors.New("the demo has no workspaces")
	}
	if id == "" || slices.Contains(demoOrganizations, id) {
		return nil
	}
	return fmt.Errorf("not a member of %q", id)
}

// tokenConfig defines the token template "api", served at
// GET /api/auth/token?template=api: "sub" (the user's ID), "email",
// "org_id" (the active organization), audience apiAudience(appURL) and a
// 5-minute lifetime, signed with an Ed25519 key derived from the cookie
// secret, so that demos sharing a secret (and a Redis) publish the same key
// at /api/auth/jwks.json.
func tokenConfig(secret, appURL string) (*sessionkit.TokenConfig, error) {
	seed, err := hkdf.Key(sha256.New, []byte(secret), nil, "sessionkit demo: token signing key", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	key := ed25519.NewKeyFromSeed(seed)
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &sessionkit.TokenConfig{
		Keys: []sessionkit.StaticKey{{ID: "demo-" + hex.EncodeToString(sum[:6]), Key: key}},
		Templates: map[string]sessionkit.TokenTemplate{
			"api": {Lifetime: 5 * time.Minute, Audience: []string{apiAudience(appURL)}, Fields: map[string]string{"email": "user.email"}},
		},
	}, nil
}

// apiAudience is the "aud" of the "api" template's tokens: the demo's own
// API, so that a service trusting /api/auth/jwks.json for another audience
// refuses them.
func apiAudience(appURL string) string { return appURL + "/api" }

// Close stops the app, the Manager and devoidc.
func (d *demo) Close() {
	if d.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.srv.Shutdown(ctx)
		cancel()
	}
	d.ln.Close()
	if d.m != nil {
		d.m.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
	if d.idp != nil {
		d.idp.Close()
	}
	d.tr.CloseIdleConnections()
}

// newHandler is the demo's whole HTTP surface; metrics serves /metrics.
func newHandler(m *sessionkit.Manager, sp *sessionsPage, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", m.Handler())
	mux.Handle("GET /metrics", metrics)
	app := http.NewServeMux()
	mux.Handle("/", pageHeaders(app))
	app.HandleFunc("GET /static/home.js", serveScript(homeScript))
	app.HandleFunc("GET /static/client.js", serveScript(clientScript))
	app.HandleFunc("GET /static/demo.css", serveStatic("text/css; charset=utf-8", stylesheet))
	app.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		render(w, r, homePage, "Home", view(s))
	})
	app.Handle("GET /protected", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		render(w, r, protectedPage, "Protected page", view(s))
	})))
	app.Handle("GET /api/me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(me{
			User:                 s.User,
			Status:               s.Status,
			Source:               s.Source,
			ExpiresAt:            s.ExpireAt,
			AccessTokenExpiresAt: s.AccessTokenExpiresAt,
			AccessTokenIssuedAt:  s.AccessTokenIssuedAt,
			AccessTokenSHA256:    fingerprint(s.AccessToken),
			Error:                s.Error,
		})
	})))
	app.Handle("GET /sessions", m.Require(http.HandlerFunc(sp.page)))
	app.Handle("GET /api/sessions", m.Require(http.HandlerFunc(sp.json)))
	app.Handle("POST /sessions/revoke-all", m.Require(http.HandlerFunc(sp.revokeAll)))
	app.HandleFunc("GET /client", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, clientPage, "Client page", nil)
	})
	return m.Middleware(mux)
}

// me is the JSON of /api/me.
type me struct {
	User                 sessionkit.User   `json:"user"`
	Status               sessionkit.Status `json:"status"`
	Source               sessionkit.Source `json:"source"`
	ExpiresAt            time.Time         `json:"expiresAt"`
	AccessTokenExpiresAt time.Time         `json:"accessTokenExpiresAt,omitzero"`
	// AccessTokenIssuedAt is when the access token was obtained: at
	// sign-in or at its last refresh. Bearer sessions have none.
	AccessTokenIssuedAt time.Time `json:"accessTokenIssuedAt,omitzero"`
	// AccessTokenSHA256 identifies the current access token without
	// showing it: it changes when the token is refreshed.
	AccessTokenSHA256 string `json:"accessTokenSha256,omitempty"`
	Error             string `json:"error,omitempty"`
}

// fingerprint is the first 12 hex digits of the SHA-256 of a token.
func fingerprint(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

// discoverJWKS reads jwks_uri from the issuer's discovery document.
func discoverJWKS(ctx context.Context, c *http.Client, issuer string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery answered %s", resp.Status)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil || doc.JWKSURI == "" {
		return "", errors.New("discovery document without jwks_uri")
	}
	return doc.JWKSURI, nil
}

// canonicalHost redirects requests for another host name (localhost
// instead of 127.0.0.1) to the configured one, so that cookies and the
// OAuth redirect URI agree.
func canonicalHost(host string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Host, host) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			u := *r.URL
			u.Scheme, u.Host = "http", host
			if r.TLS != nil {
				u.Scheme = "https"
			}
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
