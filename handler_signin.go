package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/internal/flow"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/page"
	"github.com/sessionkit/sessionkit/internal/redirect"
)

// GET {BasePath}/signin, GET and POST /signin/{id}, GET /callback/{id} and
// GET /error: the sign-in page, the start of an authorization-code flow,
// its end, and the page of a failed sign-in.

func (h *authHandler) getSignIn(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	cb, herr := h.callbackURL(r, q.Get("callbackUrl"), "/")
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	if page.IsCrossSite(r) {
		// A link on another site may start a sign-in, but not choose
		// how the provider signs the user in, nor add an account.
		q = nil
	}
	u, herr := h.startSignIn(w, r, id, cb, q)
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func (h *authHandler) postSignIn(w http.ResponseWriter, r *http.Request, id string) {
	_, cb, wantJSON, ok := h.postForm(w, r, "/signin", "/")
	if !ok {
		return
	}
	u, herr := h.startSignIn(w, r, id, cb, r.URL.Query())
	if herr != nil {
		h.failRedirect(w, r, herr, "/signin?error="+herr.code, wantJSON)
		return
	}
	h.redirect(w, r, u, wantJSON)
}

func (h *authHandler) callback(w http.ResponseWriter, r *http.Request, id string) {
	u, herr := h.finishSignIn(w, r, id)
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func (h *authHandler) signInPage(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	if h.m.cfg.SignInURL != h.base+"/signin" { // the application has its own sign-in page
		pass := url.Values{"callbackUrl": {q.Get("callbackUrl")}, "error": {q.Get("error")}}
		if u, ok := redirect.WithQuery(h.m.cfg.SignInURL, pass); ok {
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
	}
	cb, herr := h.callbackURL(r, q.Get("callbackUrl"), "/")
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	msg := ""
	switch {
	case q.Get("csrf") == "true":
		msg = "The form expired. Please try again."
	case q.Get("error") != "":
		msg = "Sign-in failed (" + page.SanitizeCode(q.Get("error")) + "). Please try again."
	}
	page.Render(w, http.StatusOK, page.SignIn{Providers: h.providerList(r), CSRFToken: h.csrfToken(w, r), Callback: cb, Error: msg})
}

func (h *authHandler) errorPage(w http.ResponseWriter, r *http.Request, _ string) {
	code := page.SanitizeCode(r.URL.Query().Get("error"))
	page.Render(w, http.StatusBadRequest, page.Error{Status: http.StatusBadRequest, StatusText: "Sign-in error",
		Code: code, Message: "Sign-in failed (" + code + ").", SignIn: h.base + "/signin"})
}

var (
	errNoCode      = errors.New("the callback carries no authorization code")
	errCodeRefused = errors.New("the provider refused the authorization code (expired, already used, or not issued to this sign-in)")
	// errTooManyFlows: a cross-site request found no room for another
	// sign-in without ending one in progress.
	errTooManyFlows = errors.New("other sign-ins are in progress in this browser: finish one, or start from this site's sign-in page")
)

// startSignIn begins the authorization-code flow with provider id: it
// seals state, nonce and PKCE verifier into a flow cookie of its own and
// returns the provider's authorization URL. extra holds what the request
// asks of the provider (oidc.PassThrough) and addAccount; the caller passes nil
// for a request it does not trust with them.
func (h *authHandler) startSignIn(w http.ResponseWriter, r *http.Request, id, callback string, extra url.Values) (string, *handlerError) {
	p, err := h.m.provider(id)
	if err != nil {
		return "", unknownProvider(id)
	}
	if !h.makeRoom(w, r, page.IsCrossSite(r)) {
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
	f := &flow.State{
		Provider: id,
		State:    ar.State,
		Nonce:    ar.Nonce,
		Verifier: ar.Verifier,
		Callback: callback,
		Redirect: conf.RedirectURL,
		Expires:  h.m.cfg.Now().Add(signInStateLifetime).Unix(),
		Add:      extra.Get("addAccount") == "true",
	}
	scopes, params := oidc.AuthParams(rp.meta.Issuer, conf.Scopes, extra)
	conf.Scopes = scopes
	opts := append(ar.Options(), params...)
	name, _ := h.flows.Name(f.State)
	value, err := h.flows.Seal(name, f)
	if errors.Is(err, flow.ErrTooLarge) {
		return "", &handlerError{http.StatusBadRequest, "InvalidCallbackUrl", err.Error()}
	}
	if err != nil {
		return "", &handlerError{http.StatusInternalServerError, "Configuration", "the sign-in state could not be sealed"}
	}
	h.setCookie(w, name, value, int(signInStateLifetime/time.Second))
	return conf.AuthCodeURL(f.State, opts...), nil
}

// finishSignIn handles the provider's redirect back: it checks the state
// against the flow cookie and the issuer (RFC 9207), exchanges the code
// with the PKCE verifier, signs the user in (which verifies the ID token
// and its nonce) and returns where to send the browser.
func (h *authHandler) finishSignIn(w http.ResponseWriter, r *http.Request, id string) (string, *handlerError) {
	f, p, herr := h.callbackFlow(w, r, id)
	if herr != nil {
		return "", herr
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.m.cfg.FetchTimeout)
	defer cancel()
	rp, err := p.resolve(ctx)
	if err != nil {
		return "", providerDown(id)
	}
	q := r.URL.Query()
	if err := rp.meta.CheckResponseIssuer(q); err != nil {
		return "", invalidCheck(err)
	}
	if herr := providerRefused(q.Get("error")); herr != nil {
		return "", herr
	}
	code := q.Get("code")
	if code == "" {
		return "", invalidCheck(errNoCode)
	}
	params, herr := h.redeemCode(ctx, f, p, rp, code)
	if herr != nil {
		return "", herr
	}
	signIn := h.m.SignIn
	if f.Add {
		signIn = h.m.AddSignIn
	}
	if _, err := signIn(w, r, params); err != nil {
		return "", h.signInFailed(r, id, err)
	}
	return f.Callback, nil
}

// providerRefused is the answer to a callback whose error parameter says
// the provider did not sign the user in, and nil without one.
func providerRefused(e string) *handlerError {
	if e == "" {
		return nil
	}
	status := http.StatusBadRequest
	if e == "access_denied" {
		status = http.StatusForbidden
	}
	return &handlerError{status, "OAuthCallbackError", "the provider did not sign you in: " + page.SanitizeCode(e)}
}

// redeemCode exchanges the authorization code of flow f with provider p,
// with the flow's PKCE verifier, and returns what SignIn needs: the tokens
// and, as Provider.UserInfo says, the user read from its userinfo endpoint.
func (h *authHandler) redeemCode(ctx context.Context, f *flow.State, p *provider, rp *resolvedProvider, code string) (SignInParams, *handlerError) {
	id := f.Provider
	conf := rp.oauth2
	conf.RedirectURL = f.Redirect
	tok, err := conf.Exchange(h.m.oauthContext(ctx), code, oidc.ExchangeOptions(f.Verifier)...)
	switch {
	case oidc.ClientError(err):
		return SignInParams{}, &handlerError{http.StatusBadRequest, "OAuthCallback", errCodeRefused.Error()}
	case err != nil:
		return SignInParams{}, providerDown(id)
	}
	if tok.RefreshToken == "" && oidc.WantsOffline(conf.Scopes) {
		h.m.cfg.Logger.WarnContext(ctx, "sessionkit: offline access was asked for and no refresh token granted; the session cannot be refreshed", "provider", id)
	}
	params := SignInParams{Token: tok, Nonce: f.Nonce, Provider: id}
	raw, _ := tok.Extra("id_token").(string)
	if need, sub := oidc.NeedsUserInfo(p.cfg.UserInfo, raw, conf.Scopes); need && rp.meta.UserInfoEndpoint != "" {
		u, err := h.m.fetchUserInfo(ctx, rp.meta.UserInfoEndpoint, tok, sub)
		if err != nil {
			return SignInParams{}, &handlerError{http.StatusBadGateway, "OAuthProfile", fmt.Sprintf("the user info of provider %q could not be read", id)}
		}
		params.User = u
	}
	return params, nil
}

// signInFailed is the answer to a callback whose sign-in with provider id
// failed with err.
func (h *authHandler) signInFailed(r *http.Request, id string, err error) *handlerError {
	switch {
	case errors.Is(err, ErrProviderUnavailable):
		return providerDown(id)
	case errors.Is(err, errInvalidIDToken):
		return &handlerError{http.StatusBadRequest, "InvalidIDToken", "the provider's ID token was refused (signature, issuer, audience, expiry or nonce)"}
	case errors.Is(err, ErrInvalidSession):
		return &handlerError{http.StatusBadGateway, "OAuthProfile", fmt.Sprintf("provider %q named no user", id)}
	case errors.Is(err, ErrSessionTooLarge):
		return &handlerError{http.StatusBadGateway, "OAuthTokenTooLarge", fmt.Sprintf("the tokens of provider %q do not fit in the session cookie (raise MaxCookieSize)", id)}
	}
	h.m.cfg.Logger.ErrorContext(r.Context(), "sessionkit: sign-in failed", "provider", id, "error", err.Error())
	return &handlerError{http.StatusInternalServerError, "SignInError", "the session could not be written"}
}

// providerDown is the answer when the provider cannot be reached or
// answers with a server error: an upstream failure, hence 502.
func providerDown(id string) *handlerError {
	return &handlerError{http.StatusBadGateway, "ProviderUnavailable",
		fmt.Sprintf("the identity provider %q could not be reached or failed; try again later", id)}
}

func unknownProvider(id string) *handlerError {
	return &handlerError{http.StatusNotFound, "InvalidProvider", fmt.Sprintf("no provider %q is configured", id)}
}
