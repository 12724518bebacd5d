package sessionkit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/internal/oidc"
	"golang.org/x/oauth2"
)

// signInFlow is what a sign-in in progress must remember between the
// authorization request and the callback. It lives in a cookie sealed with
// the session keys (authenticated and encrypted, its name bound into the
// MAC), so the browser that started the sign-in is the only one that can
// finish it, and it cannot read or change it.
type signInFlow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	Callback string `json:"c"`           // validated, absolute
	Redirect string `json:"r"`           // the redirect_uri sent
	Expires  int64  `json:"e"`           // Unix seconds
	Add      bool   `json:"a,omitempty"` // add the account to the session (AddSignIn)
}

// Errors of the callback, each answered with a 4xx.
var (
	errNoFlow        = errors.New("no sign-in is in progress in this browser (its state cookie is missing or expired): start again")
	errStateMismatch = errors.New("the state parameter does not match this browser's sign-in (started again elsewhere, or forged)")
	errFlowProvider  = errors.New("the callback names another provider than the sign-in that was started")
	errNoCode        = errors.New("the callback carries no authorization code")
	errCodeRefused   = errors.New("the provider refused the authorization code (expired, already used, or not issued to this sign-in)")
)

// sealFlow seals f into the flow cookie's value.
func (h *authHandler) sealFlow(name string, f *signInFlow) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" in a callbackUrl would take 6 bytes
	if err := enc.Encode(f); err != nil {
		return "", err
	}
	v, err := h.m.cookies.flow[0].Encode(name, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if err != nil {
		return "", fmt.Errorf("sessionkit: sealing the sign-in state: %w", err)
	}
	// A browser drops a cookie whose name and value together pass its
	// limit, and the callback would then find no sign-in in progress.
	if len(name)+len(v) > browserCookieLimit {
		return "", errFlowTooLarge
	}
	return v, nil
}

// maxFlowCookie is the largest flow cookie openFlow accepts, and about
// what a browser keeps.
const maxFlowCookie = 4096

// errFlowTooLarge: the sign-in state (mostly the callbackUrl) would not
// fit in a cookie.
var errFlowTooLarge = errors.New("the callbackUrl is too long to carry through the sign-in")

// openFlow reads the flow cookie of r for state, if it is one this server
// sealed and it has not expired.
func (h *authHandler) openFlow(r *http.Request, state string) (*signInFlow, bool) {
	name, ok := h.flowCookieName(state)
	if !ok {
		return nil, false
	}
	c, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	return h.openFlowValue(name, c.Value)
}

// openFlowValue opens the value of the flow cookie called name.
func (h *authHandler) openFlowValue(name, value string) (*signInFlow, bool) {
	if value == "" || len(value) > maxFlowCookie {
		return nil, false
	}
	b, _, ok := h.m.cookies.openFlowCodecs(name, value)
	if !ok {
		return nil, false
	}
	var f signInFlow
	if json.Unmarshal(b, &f) != nil || h.m.cfg.Now().Unix() >= f.Expires || f.State == "" {
		return nil, false
	}
	return &f, true
}

// Each sign-in in progress has its own flow cookie, named after its state,
// so that sign-ins started in two tabs of one browser both finish; at most
// maxFlows are kept.
const (
	stateLen   = 26 // rand.Text()'s length
	flowKeyLen = 12 // characters of the state in the cookie's name
	maxFlows   = 4
)

// flowCookieName is the name of the flow cookie of the sign-in with state,
// and false for a state this server cannot have issued.
func (h *authHandler) flowCookieName(state string) (string, bool) {
	if len(state) != stateLen {
		return "", false
	}
	for i := range flowKeyLen {
		if c := state[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return h.flowCookie + "." + state[:flowKeyLen], true
}

// makeRoom keeps the flow cookies of r within maxFlows before a sign-in
// starts: unreadable or expired ones are cleared, and when maxFlows
// sign-ins are in progress, a same-site request clears the oldest. A
// cross-site request never ends a sign-in in progress: it reports false
// when there is no room.
func (h *authHandler) makeRoom(w http.ResponseWriter, r *http.Request, crossSite bool) bool {
	type flowRef struct {
		name    string
		expires int64
	}
	var flows []flowRef
	prefix := h.flowCookie + "."
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, prefix) {
			continue
		}
		var f *signInFlow
		ok := false
		if len(flows) < 2*maxFlows { // bounds the work an attacker's own cookies cost
			f, ok = h.openFlowValue(c.Name, c.Value)
		}
		if !ok {
			h.expireCookie(w, c.Name)
			continue
		}
		flows = append(flows, flowRef{c.Name, f.Expires})
	}
	if len(flows) < maxFlows {
		return true
	}
	if crossSite {
		return false
	}
	slices.SortFunc(flows, func(a, b flowRef) int { return cmp.Compare(a.expires, b.expires) })
	for _, f := range flows[:len(flows)-maxFlows+1] {
		h.expireCookie(w, f.name)
	}
	return true
}

// authParams are the authorization request parameters a sign-in request
// may pass through to the provider, as Auth.js's signIn(provider, options,
// authorizationParams) does.
var authParams = []string{"login_hint", "prompt", "ui_locales", "max_age", "acr_values"}

// errTooManyFlows: a cross-site request found no room for another
// sign-in without ending one in progress.
var errTooManyFlows = errors.New("other sign-ins are in progress in this browser: finish one, or start from this site's sign-in page")

// isCrossSite reports whether the browser says r comes from another site
// (Sec-Fetch-Site: cross-site). Requests without the header (older
// browsers, non-browser clients) count as same-site.
func isCrossSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site"
}

// startSignIn begins the authorization-code flow with provider id: it
// seals state, nonce and PKCE verifier into a flow cookie of its own and
// returns the provider's authorization URL. extra holds what the request
// asks of the provider (authParams) and addAccount; the caller passes nil
// for a request it does not trust with them.
func (h *authHandler) startSignIn(w http.ResponseWriter, r *http.Request, id, callback string, extra url.Values) (string, *handlerError) {
	p, err := h.m.provider(id)
	if err != nil {
		return "", &handlerError{http.StatusNotFound, "InvalidProvider", fmt.Sprintf("no provider %q is configured", id)}
	}
	if !h.makeRoom(w, r, isCrossSite(r)) {
		return "", &handlerError{http.StatusConflict, "SignInInProgress", errTooManyFlows.Error()}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.m.cfg.FetchTimeout)
	defer cancel()
	rp, err := p.resolve(ctx)
	if err != nil {
		return "", providerDown(id)
	}
	origin := h.originOf(r)
	conf := rp.oauth2 // a copy: RedirectURL is per request
	conf.RedirectURL = origin.String() + h.base + "/callback/" + id
	ar := oidc.NewAuthRequest(rp.meta.SupportsS256(), rp.idToken != nil && slices.Contains(conf.Scopes, "openid"))
	f := &signInFlow{
		Provider: id,
		State:    ar.State,
		Nonce:    ar.Nonce,
		Verifier: ar.Verifier,
		Callback: callback,
		Redirect: conf.RedirectURL,
		Expires:  h.m.cfg.Now().Add(h.m.cfg.SignInStateLifetime).Unix(),
		Add:      extra.Get("addAccount") == "true",
	}
	opts := ar.Options()
	for _, k := range authParams {
		if v := extra.Get(k); v != "" && len(v) <= 256 {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	name, _ := h.flowCookieName(f.State)
	value, err := h.sealFlow(name, f)
	if errors.Is(err, errFlowTooLarge) {
		return "", &handlerError{http.StatusBadRequest, "InvalidCallbackUrl", err.Error()}
	}
	if err != nil {
		return "", &handlerError{http.StatusInternalServerError, "Configuration", "the sign-in state could not be sealed"}
	}
	h.setCookie(w, name, value, int(h.m.cfg.SignInStateLifetime/time.Second))
	return conf.AuthCodeURL(f.State, opts...), nil
}

// finishSignIn handles the provider's redirect back: it checks the state
// against the flow cookie, exchanges the code with the PKCE verifier,
// signs the user in (which verifies the ID token and its nonce) and
// returns where to send the browser.
func (h *authHandler) finishSignIn(w http.ResponseWriter, r *http.Request, id string) (string, *handlerError) {
	f, p, herr := h.callbackFlow(w, r, id)
	if herr != nil {
		return "", herr
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		status := http.StatusBadRequest
		if e == "access_denied" {
			status = http.StatusForbidden
		}
		return "", &handlerError{status, "OAuthCallbackError", "the provider did not sign you in: " + sanitizeCode(e)}
	}
	code := q.Get("code")
	if code == "" {
		return "", invalidCheck(errNoCode)
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.m.cfg.FetchTimeout)
	defer cancel()
	rp, err := p.resolve(ctx)
	if err != nil {
		return "", providerDown(id)
	}
	conf := rp.oauth2
	conf.RedirectURL = f.Redirect
	tok, err := conf.Exchange(h.m.oauthContext(ctx), code, oidc.ExchangeOptions(f.Verifier)...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return "", &handlerError{http.StatusBadRequest, "OAuthCallback", errCodeRefused.Error()}
		}
		return "", providerDown(id)
	}
	params := SignInParams{Token: tok, Nonce: f.Nonce, Provider: id}
	if raw, _ := tok.Extra("id_token").(string); raw == "" && rp.meta.UserInfoEndpoint != "" {
		u, err := h.m.fetchUserInfo(ctx, rp.meta.UserInfoEndpoint, tok)
		if err != nil {
			return "", &handlerError{http.StatusBadGateway, "OAuthProfile", fmt.Sprintf("the user info of provider %q could not be read", id)}
		}
		params.User = u
	}
	signIn := h.m.SignIn
	if f.Add {
		signIn = h.m.AddSignIn
	}
	if _, err := signIn(w, r, params); err != nil {
		switch {
		case errors.Is(err, ErrProviderUnavailable):
			return "", providerDown(id)
		case errors.Is(err, ErrInvalidIDToken):
			return "", &handlerError{http.StatusBadRequest, "InvalidIDToken", "the provider's ID token was refused (signature, issuer, audience, expiry or nonce)"}
		case errors.Is(err, ErrInvalidSession):
			return "", &handlerError{http.StatusBadGateway, "OAuthProfile", fmt.Sprintf("provider %q named no user", id)}
		case errors.Is(err, ErrSessionTooLarge):
			return "", &handlerError{http.StatusBadGateway, "OAuthTokenTooLarge", fmt.Sprintf("the tokens of provider %q do not fit in the session cookie (raise MaxCookieSize)", id)}
		}
		h.m.cfg.Logger.ErrorContext(r.Context(), "sessionkit: sign-in failed", "provider", id, "error", err.Error())
		return "", &handlerError{http.StatusInternalServerError, "SignInError", "the session could not be written"}
	}
	return f.Callback, nil
}

// callbackFlow finds the sign-in a callback for provider id finishes: the
// flow cookie named after its state, which it expires (one callback,
// whatever its outcome), whose state it matches and then consumes.
func (h *authHandler) callbackFlow(w http.ResponseWriter, r *http.Request, id string) (*signInFlow, *provider, *handlerError) {
	state := r.URL.Query().Get("state")
	f, ok := h.openFlow(r, state)
	if name, named := h.flowCookieName(state); named {
		h.expireCookie(w, name)
	}
	p, err := h.m.provider(id)
	if err != nil {
		return nil, nil, &handlerError{http.StatusNotFound, "InvalidProvider", fmt.Sprintf("no provider %q is configured", id)}
	}
	if !ok {
		return nil, nil, invalidCheck(errNoFlow)
	}
	if f.Provider != id {
		return nil, nil, invalidCheck(errFlowProvider)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return nil, nil, invalidCheck(errStateMismatch)
	}
	if herr := h.consumeState(r.Context(), f); herr != nil {
		return nil, nil, herr
	}
	return f, p, nil
}

// errStateUsed: the flow cookie of a finished callback came back.
var errStateUsed = errors.New("this sign-in has already been finished: start again")

// stateConsumer is the Store capability consumeState uses.
type stateConsumer interface {
	Consume(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// consumeState makes a flow serve one callback on the server too, not
// only in the browser that is told to delete its cookie: the state is
// consumed in the Store when there is one (across instances), otherwise in
// the Manager's usedStates (this instance only).
func (h *authHandler) consumeState(ctx context.Context, f *signInFlow) *handlerError {
	now := h.m.cfg.Now()
	if c, ok := h.m.cfg.Store.(stateConsumer); ok {
		ttl := time.Unix(f.Expires, 0).Sub(now) + time.Second
		first, err := c.Consume(ctx, "signin-state:"+f.State, ttl)
		if err != nil {
			h.m.cfg.Logger.ErrorContext(ctx, "sessionkit: the store could not record a sign-in state", "error", err.Error())
			return &handlerError{http.StatusServiceUnavailable, "SessionStoreUnavailable", "the session store is unavailable; try again"}
		}
		if !first {
			return invalidCheck(errStateUsed)
		}
		return nil
	}
	if !h.m.usedStates.consume(f.State, f.Expires, now.Unix()) {
		return invalidCheck(errStateUsed)
	}
	return nil
}

// maxUsedStates bounds usedStates: about 100 bytes an entry.
const maxUsedStates = 1 << 15

// usedStates records the states of finished callbacks until their flow
// cookies expire, for a Manager without a Store. It holds at most max
// entries: past that the oldest is forgotten early, so a flood of more than
// max callbacks within SignInStateLifetime reopens the oldest states to
// one replay each. It is safe for concurrent use.
type usedStates struct {
	mu    sync.Mutex
	max   int
	seen  map[string]int64 // state → expiry, Unix seconds
	queue []usedState      // insertion order, from head
	head  int
}

type usedState struct {
	state   string
	expires int64
}

func newUsedStates(max int) *usedStates {
	return &usedStates{max: max, seen: map[string]int64{}}
}

// consume records state until expires and reports whether it was not
// recorded yet. Amortized O(1).
func (u *usedStates) consume(state string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if exp, ok := u.seen[state]; ok && exp > now {
		return false
	}
	for u.head < len(u.queue) && (u.queue[u.head].expires <= now || len(u.queue)-u.head >= u.max) {
		e := u.queue[u.head]
		if u.seen[e.state] == e.expires {
			delete(u.seen, e.state)
		}
		u.queue[u.head] = usedState{}
		u.head++
	}
	if u.head > 64 && 2*u.head >= len(u.queue) {
		n := copy(u.queue, u.queue[u.head:])
		clear(u.queue[n:])
		u.queue, u.head = u.queue[:n], 0
	}
	u.seen[state] = expires
	u.queue = append(u.queue, usedState{state, expires})
	return true
}

func invalidCheck(err error) *handlerError {
	return &handlerError{http.StatusBadRequest, "InvalidCheck", err.Error()}
}

// providerDown is the answer when the provider cannot be reached or
// answers with a server error: an upstream failure, hence 502.
func providerDown(id string) *handlerError {
	return &handlerError{http.StatusBadGateway, "ProviderUnavailable",
		fmt.Sprintf("the identity provider %q could not be reached or failed; try again later", id)}
}

// sanitizeCode keeps an error code from the provider printable and short.
func sanitizeCode(s string) string {
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "error"
	}
	return string(b)
}
