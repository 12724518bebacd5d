package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/sessionkit/sessionkit/internal/flow"
	"github.com/sessionkit/sessionkit/internal/introspect"
	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/obs"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/safeurl"
)

// Manager decodes, verifies and issues sessions. Create one with New and
// share it: it is safe for concurrent use. Call Close when it is no longer
// needed, to stop its background JWKS refreshes.
type Manager struct {
	cfg       settings
	cookies   *cookieCodec        // nil when Config.Keys is empty (bearer-only)
	bearer    *jwtverify.Verifier // nil without Config.Bearer
	providers []*provider
	reader    *reader
	verbs     *verbs
	refresher *refresher
	hooks     *hooks
	cache     *credCache // nil when disabled
	stored    *storedSessions
	minter    *minter // nil without Config.Tokens
	// usedStates records finished sign-in callbacks when there is no Store.
	usedStates *flow.Used
	client     *http.Client // size-limited, for every outgoing request
	revoker    *oidc.Revoker
	ctx        context.Context
	cancel     context.CancelFunc
	unregister func() // undoes Observer.Register

	mu        sync.Mutex
	closed    bool
	verifiers []*jwtverify.Verifier // started key sets, waited for by Close
}

// New validates cfg, applies its defaults and returns a Manager; an
// invalid field is reported as a *ConfigError naming it. New does not wait
// for the network: JWK Sets are fetched in the background (a request that
// needs a key first waits, within Config.FetchTimeout and its context),
// and a provider that is down at start-up is retried with backoff.
func New(cfg Config) (*Manager, error) {
	s, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := obs.New(s.Observer, s.Logger, obs.Sentinels{NoSession: ErrNoSession, StoreDown: ErrStoreUnavailable, BadCookie: ErrInvalidCookie})
	s.Store = o.Store(s.Store) // every operation observed, the capabilities kept
	m := &Manager{cfg: s, client: safeurl.Client(o.Client(s.HTTPClient, s.FetchTimeout), s.FetchTimeout), usedStates: flow.NewUsed(flow.MaxUsed)}
	m.hooks = &hooks{cb: &m.cfg.Callbacks, log: m.cfg.Logger, obs: o}
	if s.Tokens != nil {
		if m.minter, err = newMinter(s.Tokens, &s, m.hooks); err != nil {
			return nil, err
		}
	}
	if len(s.Keys) > 0 {
		if m.cookies, err = newCookieCodec(&s); err != nil {
			return nil, err
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.cache = newCredCache(s.CacheBytes)
	m.unregister = o.Register(m.cache.v().Stats)
	m.stored = newStoredSessions(&s, m.cache, m.cookies)
	m.revoker, m.stored.revoke = oidc.NewRevoker(m.client, s.FetchTimeout, s.Logger), m.revokeRefreshTokens
	m.refresher = newRefresher(m)
	for i, p := range s.Providers {
		m.providers = append(m.providers, &provider{cfg: p, m: m, field: fmt.Sprintf("Providers[%d]", i)})
	}
	if s.bearer != nil {
		if m.bearer, err = m.startVerifier(s.bearer, "Bearer"); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	var introspected []introspect.Endpoint
	var policy introspect.Policy // the one introspecting provider's tokens, for this client or Bearer.Audience
	for _, p := range m.providers {
		if p.cfg.IntrospectionURL != "" {
			introspected = append(introspected, p.endpoint(func(d *oidc.Document) string { return d.IntrospectionEndpoint }))
			policy = introspect.Policy{Issuer: p.cfg.Issuer, Audiences: []string{p.cfg.ClientID}}
			if s.bearer != nil {
				policy.Audiences = append(policy.Audiences, s.bearer.Audience...)
			}
		}
	}
	m.reader = &reader{now: m.cfg.Now, cookies: m.cookies, bearer: m.bearer, jwt: m.cfg.bearer, cache: m.cache, hooks: m.hooks,
		clientIDs: clientIDs(m.cfg.Providers), opaque: introspect.New(introspected, policy, m.client, m.cfg.FetchTimeout, m.cfg.Now),
		calm: m.calmUntil}
	if m.cfg.Store != nil {
		m.reader.stored = m.stored
	}
	m.verbs = newVerbs(m)
	return m, nil
}

// startVerifier builds a verifier for cfg whose key set is fetched in the
// background until Close.
func (m *Manager) startVerifier(cfg *JWTConfig, field string) (*jwtverify.Verifier, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errManagerClosed
	}
	vc := cfg.verifierConfig()
	vc.FetchTimeout, vc.Client, vc.Logger, vc.Name, vc.Now = m.cfg.FetchTimeout, m.client, m.cfg.Logger, field, m.cfg.Now
	vc.OnUnknownKey = m.hooks.obs.UnknownKey
	v, err := jwtverify.New(m.ctx, vc)
	if err != nil {
		return nil, &ConfigError{Field: field + ".JWKSURLs", Reason: "cannot build the key set", Err: err}
	}
	m.verifiers = append(m.verifiers, v)
	m.hooks.obs.AddKeys(v.Keys)
	return v, nil
}

var errManagerClosed = errors.New("sessionkit: manager closed")

// Close stops the Manager's background work (JWKS refreshes) and waits
// for it to end. A closed Manager still verifies with the keys it holds.
// Close always returns nil.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	verifiers := m.verifiers
	m.mu.Unlock()
	m.revoker.Close()
	m.cancel()
	m.unregister()
	m.refresher.close()
	m.reader.opaque.Close()
	for _, v := range verifiers {
		v.Wait()
	}
	return nil
}
