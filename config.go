package sessionkit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/redirect"
	"github.com/sessionkit/sessionkit/internal/seal"
	"github.com/sessionkit/sessionkit/observe"
	"github.com/sessionkit/sessionkit/store"
)

// Defaults of Config and JWTConfig, and a sign-in state's lifetime.
const (
	defaultCookieName    = "sessionkit"
	defaultBasePath      = "/api/auth"
	defaultLifetime      = 30 * 24 * time.Hour
	defaultLeeway        = 5 * time.Second
	defaultJWKSRefresh   = time.Hour
	defaultJWKSMinWait   = time.Minute
	defaultFetchTimeout  = 10 * time.Second
	defaultMaxCookieSize = 16 << 10
	defaultRefreshLeeway = time.Minute
	signInStateLifetime  = 10 * time.Minute
)

// Config configures a Manager. The zero value of every field is a safe,
// documented default; New validates the whole struct and names the field of
// anything it rejects in a *ConfigError.
type Config struct {
	// Keys are the cookie secrets, each at least 32 bytes of secret (such
	// as `openssl rand -base64 48`). The first seals cookies and tickets,
	// every one opens them: rotate by putting the new secret first and
	// keeping the old one until its cookies have expired (they are
	// re-issued with the first). Each use (session and sign-in cookies,
	// tickets, CSRF tokens) derives its own keys with HKDF-SHA256 and
	// seals with AES-256-GCM. Keys may be empty only when Bearer is set:
	// the Manager then reads bearer JWTs and never writes cookies.
	Keys [][]byte

	// CookieName is the session cookie's name, without prefix. Default
	// "sessionkit". The Manager adds the "__Host-" prefix (Path "/", no
	// Domain) or else "__Secure-", and splits values larger than a browser
	// accepts into chunks named <name>.0, <name>.1, ...
	CookieName string
	// CookieDomain is the cookie's Domain attribute. Default empty (host-only,
	// which allows the stronger "__Host-" prefix).
	CookieDomain string
	// CookiePath is the cookie's Path attribute. Default "/".
	CookiePath string
	// CookieSameSite is the cookie's SameSite attribute. Default
	// http.SameSiteLaxMode. SameSiteNoneMode requires Secure cookies.
	CookieSameSite http.SameSite
	// InsecureCookies drops the Secure attribute and the cookie prefix,
	// for development in Safari or on a non-loopback plain-HTTP host
	// (Chrome, Firefox, curl and Go's cookiejar treat http://localhost as
	// secure). The Manager never guesses from the request: behind a
	// TLS-terminating proxy every request looks like plain HTTP.
	// InsecureCookies MUST NOT be set in production.
	InsecureCookies bool
	// MaxCookieSize caps the encoded size of a session across all of its
	// chunks, and the bytes of chunks read from a request. Default 16 KiB;
	// at least 4096. Mind the servers in front: nginx refuses a header
	// line over 8 KiB with its default large_client_header_buffers.
	MaxCookieSize int

	// Lifetime is a cookie session's lifetime: AbandonAt = CreatedAt +
	// Lifetime. Default 30 days.
	Lifetime time.Duration
	// IdleTimeout, when set, ends a session idle that long (status
	// abandoned): ExpireAt = LastActiveAt + IdleTimeout, never past
	// AbandonAt. The middleware records activity by re-issuing the cookie
	// at most once per IdleTimeout/10. Default 0: ExpireAt = AbandonAt.
	IdleTimeout time.Duration

	// Store, when set, keeps cookie sessions on the server and the cookie
	// holds only the session's ID and generation (sealed with Keys), so
	// that sessions can be ended, revoked, listed and signed out
	// everywhere (End, Revoke, RevokeUser, ListSessions, back-channel
	// logout), refreshed once across instances, and a copied cookie is
	// detected (ErrTokenTheft, Callbacks.OnTokenTheftDetected). Every
	// request reads the Store. A stateless cookie is refused with a Store,
	// a store-backed one without. Requires Keys. Default nil: the whole
	// session is sealed in the cookie.
	//
	// RevokeUser, ListSessions and back-channel logout need the Store's
	// listings, tickets and back-channel logout its one-time keys (see
	// package store), or they return an error wrapping ErrNotConfigured.
	// Without locks a session is refreshed once per instance; without
	// one-time keys a replayed sign-in callback is refused only by the
	// instance that served the first. memstore and redisstore have every
	// capability.
	//
	// When the Store fails, the Manager fails closed: the request has no
	// session (Middleware logs a warning, Require answers 503), and no call
	// waits past its request's context or the Store's own timeout.
	Store store.Store

	// Bearer, when set, accepts "Authorization: Bearer <JWT>" as a session.
	Bearer *JWTConfig
	// Providers are the identity providers users sign in with. SignIn
	// verifies the ID token of SignInParams.Provider's provider, and the
	// middleware refreshes access tokens through the provider named by the
	// session. Default: none.
	Providers []Provider

	// RefreshLeeway is how long before its access token expires a cookie
	// session that holds a refresh token is refreshed, through the
	// Provider named by the session. The effective leeway never exceeds
	// half the token's lifetime, so 20-second tokens are refreshed once
	// per 10 seconds, not on every request. Default 1 min; a negative
	// value turns refreshing off.
	RefreshLeeway time.Duration
	// RefreshTimeout bounds how long a request waits for a refresh (or
	// until its context ends); it then goes on with its session, flagged.
	// The exchange runs on for up to max(FetchTimeout, 2*RefreshTimeout),
	// so a late answer (the refresh token already rotated) is recorded for
	// the next request, which joins the running exchange rather than send
	// the old token again. Default FetchTimeout.
	RefreshTimeout time.Duration

	// CacheBytes is the memory budget of the verified-credential cache: a
	// credential that verified is remembered by a keyed digest of all its
	// bytes, so the next request presenting it skips decryption or
	// signature checks and decoding, until the credential's expiry, while
	// the keys that verified it are unchanged, and never for a session to
	// refresh or re-issue; SignOut drops the cookie's entry. Each request
	// still gets its own copy. Default 32 MiB; negative turns it off.
	//
	// An entry counts the credential's length plus 1 KiB: the default holds
	// about 8,000 3 KB stateless cookies or 160,000 store-backed ones (the
	// record is still read from the Store). When full, a credential is
	// admitted only if presented more often of late than the entry it would
	// replace; and while the cache is full and too few credentials of a
	// kind that verified were found in it (requests spread evenly over many
	// more sessions than it holds) — fewer than 1 in 8 stateless cookies,
	// 3 in 4 store-backed ones, 1 in 32 bearer tokens, each measured by
	// what a hit saves — 63 requests of that kind in 64 skip it, so that it
	// costs next to nothing over no cache; the 64th looks its credential
	// up, and on a miss caches it only if one of the last few thousand such
	// requests presented it too (then whatever the entry it replaces).
	// observe.Gauges.Cache tells whether the budget holds the sessions that
	// come back.
	CacheBytes int

	// BasePath is where Handler's session endpoints are mounted. Default
	// "/api/auth".
	BasePath string
	// SignInURL is where Require sends page requests that have no active
	// session, with a callbackUrl query parameter holding the request's path
	// and query. Default BasePath + "/signin".
	SignInURL string

	// HTTPClient makes every outgoing request: discovery, JWK Sets, the
	// token endpoint (code exchange, refresh), userinfo and revocation; a
	// request's context derives from the one that caused it, or from the
	// Manager's for background fetches. Default: a client with
	// FetchTimeout as its timeout. Responses over 1 MiB are refused.
	HTTPClient *http.Client
	// FetchTimeout bounds each outgoing request. Default 10 s.
	FetchTimeout time.Duration

	// Callbacks are fired as the Manager observes sign-ins, expiries and errors.
	Callbacks Callbacks

	// Observer receives the Manager's metrics and trace events (see
	// package observe; the module sessionkit/otel implements it for
	// OpenTelemetry). Default nil: nothing is observed.
	Observer *observe.Observer

	// Logger receives the library's few log lines (a recovered panic in a
	// callback, a failed JWKS refresh). It never receives a credential.
	// Default slog.Default().
	Logger *slog.Logger

	// Now is the clock every expiry is computed against. Default time.Now.
	Now func() time.Time

	// The fields below configure Handler: the Auth.js-compatible session
	// endpoints and the OAuth 2.0 / OpenID Connect sign-in, whose state,
	// nonce and PKCE verifier live in a sealed cookie for 10 minutes (the
	// time a user may take at the provider).

	// URL is the application's public origin, such as "https://app.example"
	// (no path, query or user info). Handler builds the OAuth redirect URI
	// (URL + BasePath + "/callback/{provider}") and absolute redirects from
	// it, and accepts only callbackUrl values on it. Default: each
	// request's origin (https over TLS, else http, and its Host header).
	// Set it in production, and always behind a proxy, where the request's
	// scheme and host are not the ones the browser used.
	URL string
	// ExposeAccessToken adds the active OAuth access token to the JSON of
	// GET {BasePath}/session as "accessToken", for single-page applications
	// that call the provider's APIs themselves. Default false: the access
	// and ID tokens stay on the server. The refresh token is never exposed.
	ExposeAccessToken bool
	// SignOutRedirect is where Handler's sign-out sends the browser when
	// the request names no callbackUrl: a path on this site or a URL on
	// URL's origin. Default "/".
	SignOutRedirect string
	// UpdateFromClient, when set, handles POST {BasePath}/session (Auth.js's
	// update(data)): it gets the request, a copy of the session to change
	// and the body's "data" member as raw JSON (nil when absent), all from
	// the browser: validate it. The session is then written as
	// UpdateSession writes it; an error answers 400 and changes nothing.
	// Default nil: POST /session answers the session, as a poll does.
	UpdateFromClient func(r *http.Request, s *Session, data json.RawMessage) error
	// NullSession answers GET {BasePath}/session with null instead of {}
	// without an active session, as Auth.js v5 does: set it for next-auth@5,
	// which reads {} as a session. Default false: {}, which next-auth v4
	// reads as signed out (null makes it log a fetch error).
	NullSession bool

	// Tokens, when set, lets the Manager mint short-lived JWTs from named
	// templates (GetToken, GET {BasePath}/token) and publish their keys (GET
	// {BasePath}/jwks.json). Default nil: the two endpoints answer 404.
	Tokens *TokenConfig
	// AuthorizeScope decides whether the session s may switch to the
	// organization (kind ScopeOrganization) or workspace (ScopeWorkspace)
	// id, empty for leaving it, by SwitchScope or its endpoints: a nil
	// error allows it; an error or a panic refuses it with
	// ErrScopeForbidden. Default nil: every switch is refused.
	AuthorizeScope func(ctx context.Context, s *Session, kind ScopeKind, id string) error
}

// JWTConfig says which JWTs to trust and how to check them, for bearer
// sessions (Config.Bearer). Opaque (non-JWT) tokens are refused.
type JWTConfig struct {
	// JWKSURLs are JWK Set endpoints, each an absolute https URL (http only
	// for loopback hosts). Keys are fetched by New and every hour, and when
	// a token names an unknown "kid" at most once a minute (other such
	// tokens are refused at once, so forged ones cost little). When a fetch
	// fails, the keys held go on working.
	JWKSURLs []string
	// StaticKeys are verification keys, tried before the JWK Sets.
	StaticKeys []StaticKey
	// Algorithms is the allow-list of "alg" values. Default: RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA. Never
	// "none"; HS256/384/512 only if listed and with a []byte StaticKey, so
	// a public key is never used as an HMAC secret.
	Algorithms []string

	// Issuer is the required "iss". Required unless SkipIssuerCheck.
	Issuer string
	// Audience lists accepted "aud" values; the token must carry at least one
	// of them. Required unless SkipAudienceCheck.
	Audience []string
	// AuthorizedParties, when set, lists accepted "azp" values (the client a
	// token was issued to); a token without azp, or with another, is refused.
	AuthorizedParties []string

	// RequireAccessTokenType accepts only RFC 9068 access tokens ("typ"
	// header "at+jwt" or "application/at+jwt"): set it when the provider
	// issues them, as it is the one check that tells an access token from
	// every other JWT the same keys sign. Without it, a token is still
	// refused as an ID token when it carries "nonce", "at_hash", "c_hash",
	// a "typ" claim of "ID" or a "token_use" of "id", or when its "aud" or
	// "azp" is a Config.Providers ClientID and neither its header nor a
	// "client_id", "scope" or "scp" claim marks an access token.
	RequireAccessTokenType bool

	// Leeway is the clock skew allowed on exp, nbf and iat. Default 5 s
	// (zero means the default; set 1ns for none); at most 5 min.
	Leeway time.Duration

	// CookieName also reads the JWT from this cookie (as Clerk's
	// "__session") when the request has no Authorization header and no
	// active session cookie. Default: none.
	CookieName string

	// SessionFromClaims, when set, runs after the standard claims are
	// copied to the session and may fill in more (organization, workspace,
	// custom fields) or refuse the token with an error, reported as any
	// verification failure. claims is s.Claims(), the session's own copy.
	SessionFromClaims func(claims map[string]any, s *Session) error

	// SkipIssuerCheck accepts any "iss". It MUST NOT be set unless the keys
	// are trusted for one issuer only.
	SkipIssuerCheck bool
	// SkipAudienceCheck accepts any "aud". It MUST NOT be set unless every
	// token the keys sign is meant for this server; otherwise a token issued
	// to another application is accepted here.
	SkipAudienceCheck bool

	// jwksRefresh and jwksMinWait override the JWK Set refresh intervals
	// when set (tests shorten them).
	jwksRefresh, jwksMinWait time.Duration
}

// StaticKey is a key given in the Config rather than fetched from a JWK
// Set: a verification key in JWTConfig.StaticKeys, a signing key in
// TokenConfig.Keys.
type StaticKey struct {
	// ID is the key's "kid". A verification key with an empty ID matches
	// any kid; a signing key's ID is required and unique.
	ID string
	// Key verifies: an *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	// or a []byte HMAC secret of at least 32 bytes. Or it signs: an
	// ed25519.PrivateKey (EdDSA, recommended), an *ecdsa.PrivateKey on
	// P-256 (ES256) or an *rsa.PrivateKey of at least 2048 bits (RS256).
	Key any
}

var defaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// settings is a validated Config with its defaults applied.
type settings struct {
	Config
	bearer *JWTConfig
}

// withDefaults applies the defaults of c's zero fields and validates the
// result, one concern at a time.
func (c Config) withDefaults() (settings, error) {
	s := settings{Config: c}
	s.applyDefaults()
	for _, check := range [...]func() error{s.validateKeys, s.validateCookie, s.validateDurations, s.validateURLs,
		s.bearerDefaults, s.providerDefaults} {
		if err := check(); err != nil {
			return settings{}, err
		}
	}
	return s, nil
}

// bearerDefaults validates Bearer and keeps a copy with its defaults.
func (s *settings) bearerDefaults() (err error) {
	if s.Bearer != nil {
		s.bearer, err = s.Bearer.withDefaults("Bearer")
	}
	return err
}

// withDefaults returns a copy of c with its defaults applied, or a
// *ConfigError naming the first invalid field under field.
func (c *JWTConfig) withDefaults(field string) (*JWTConfig, error) {
	j := *c
	j.Leeway = cmp.Or(j.Leeway, defaultLeeway)
	j.jwksRefresh = cmp.Or(j.jwksRefresh, defaultJWKSRefresh)
	j.jwksMinWait = cmp.Or(j.jwksMinWait, defaultJWKSMinWait)
	if len(j.Algorithms) == 0 {
		j.Algorithms = defaultAlgorithms
	}
	vc := j.verifierConfig()
	if fe := vc.Check(); fe != nil {
		return nil, fieldConfigErr(field+".", fe)
	}
	if j.CookieName != "" && !cookie.ValidName(j.CookieName) {
		return nil, configErr(field+".CookieName", "%q is not a valid cookie name", j.CookieName)
	}
	return &j, nil
}

// verifierConfig is the verifier's own configuration of a JWTConfig; the
// Manager adds its clock, fetch timeout, logger and HTTP client.
func (j *JWTConfig) verifierConfig() jwtverify.Config {
	keys := make([]jwtverify.Key, len(j.StaticKeys))
	for i, k := range j.StaticKeys {
		keys[i] = jwtverify.Key{ID: k.ID, Key: k.Key}
	}
	return jwtverify.Config{
		JWKSURLs:           j.JWKSURLs,
		StaticKeys:         keys,
		Algorithms:         j.Algorithms,
		Issuer:             j.Issuer,
		Audience:           j.Audience,
		AuthorizedParties:  j.AuthorizedParties,
		Leeway:             j.Leeway,
		SkipIssuerCheck:    j.SkipIssuerCheck,
		SkipAudienceCheck:  j.SkipAudienceCheck,
		RefreshInterval:    j.jwksRefresh,
		MinRefreshInterval: j.jwksMinWait,
	}
}

// applyDefaults fills in the zero fields of the Config itself.
func (s *settings) applyDefaults() {
	s.CookieName = cmp.Or(s.CookieName, defaultCookieName)
	s.CookiePath = cmp.Or(s.CookiePath, "/")
	if s.CookieSameSite == 0 || s.CookieSameSite == http.SameSiteDefaultMode {
		s.CookieSameSite = http.SameSiteLaxMode
	}
	s.MaxCookieSize = cmp.Or(s.MaxCookieSize, defaultMaxCookieSize)
	s.BasePath = strings.TrimRight(cmp.Or(s.BasePath, defaultBasePath), "/")
	s.SignInURL = cmp.Or(s.SignInURL, s.BasePath+"/signin")
	s.SignOutRedirect = cmp.Or(s.SignOutRedirect, "/")
	s.Lifetime = cmp.Or(s.Lifetime, defaultLifetime)
	s.FetchTimeout = cmp.Or(s.FetchTimeout, defaultFetchTimeout)
	s.CacheBytes = cmp.Or(s.CacheBytes, defaultCacheBytes)
	s.RefreshLeeway = cmp.Or(s.RefreshLeeway, defaultRefreshLeeway)
	s.RefreshTimeout = cmp.Or(s.RefreshTimeout, s.FetchTimeout)
	s.Logger = cmp.Or(s.Logger, slog.Default())
	if s.Now == nil {
		s.Now = time.Now
	}
}

// providerDefaults validates the providers, each ID used once, and fills
// in their defaults on a copy of the caller's slice.
func (s *settings) providerDefaults() error {
	s.Providers = slices.Clone(s.Providers)
	seen, introspecting := map[string]bool{}, ""
	for i := range s.Providers {
		p := &s.Providers[i]
		field := fmt.Sprintf("Providers[%d]", i)
		if err := p.validate(field); err != nil {
			return err
		}
		if seen[p.ID] {
			return configErr(field+".ID", "%q is used twice", p.ID)
		}
		seen[p.ID] = true
		// An opaque token names no issuer: with two introspecting
		// providers, one would be shown the other's tokens.
		if p.IntrospectionURL != "" && introspecting != "" {
			return configErr(field+".IntrospectionURL", "only one provider may introspect bearer tokens (%q does)", introspecting)
		}
		if p.IntrospectionURL != "" {
			introspecting = p.ID
		}
		p.Name = cmp.Or(p.Name, p.ID)
		p.Scopes = slices.Clone(p.Scopes)
		p.IDTokenAlgorithms = slices.Clone(p.IDTokenAlgorithms)
	}
	return nil
}

// validateKeys requires keys where they are needed, each strong.
func (s *settings) validateKeys() error {
	if s.Store != nil && len(s.Keys) == 0 {
		return configErr("Store", "needs cookie keys (Config.Keys): the session cookie refers to the stored session")
	}
	if len(s.Keys) == 0 && s.Bearer == nil {
		return configErr("Keys", "at least one key is required (or set Config.Bearer for bearer-only sessions)")
	}
	if fe := seal.CheckSecrets(s.Keys); fe != nil {
		return fieldConfigErr("Keys", fe)
	}
	return nil
}

// validateCookie checks the session cookie's name and attributes.
func (s *settings) validateCookie() error {
	if ae := cookie.CheckAttrs(s.CookieName, s.CookiePath, s.CookieDomain, s.CookieSameSite, !s.InsecureCookies); ae != nil {
		return fieldConfigErr("Cookie", ae)
	}
	if s.MaxCookieSize < 4096 {
		return configErr("MaxCookieSize", "must be at least 4096 bytes, got %d", s.MaxCookieSize)
	}
	return nil
}

// validateDurations refuses negative lifetimes and timeouts, and an idle
// timeout longer than the lifetime.
func (s *settings) validateDurations() error {
	for _, f := range []struct {
		field string
		d     time.Duration
	}{{"Lifetime", s.Lifetime}, {"IdleTimeout", s.IdleTimeout}, {"FetchTimeout", s.FetchTimeout}, {"RefreshTimeout", s.RefreshTimeout}} {
		if f.d < 0 {
			return configErr(f.field, "must not be negative")
		}
	}
	if s.IdleTimeout > s.Lifetime {
		return configErr("IdleTimeout", "must not exceed Lifetime (%s)", s.Lifetime)
	}
	return nil
}

// validateURLs checks BasePath, SignInURL, URL and SignOutRedirect.
func (s *settings) validateURLs() error {
	if fe := redirect.CheckConfig(s.BasePath, s.SignInURL, s.URL, s.SignOutRedirect); fe != nil {
		return fieldConfigErr("", fe)
	}
	return nil
}
