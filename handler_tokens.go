package sessionkit

import (
	"net/http"

	"github.com/sessionkit/sessionkit/internal/page"
)

// GET {BasePath}/token and GET {BasePath}/jwks.json: the tokens of
// Config.Tokens and the keys that verify them.

var errNoTokens = &handlerError{http.StatusNotFound, "UnknownAction", "session tokens are not configured"}

// getToken serves GetToken for the request's cookie session: the template
// named by ?template=, a fresh token with ?skipCache=true.
func (h *authHandler) getToken(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.minter == nil {
		h.fail(w, r, errNoTokens, true)
		return
	}
	q := r.URL.Query()
	name := q.Get("template")
	if _, ok := h.m.minter.templates[name]; !ok {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownTemplate", "no such token template"}, true)
		return
	}
	s, _ := h.m.GetServerSession(r)
	// Only cookie sessions: a bearer JWT (perhaps one of these tokens)
	// must not buy a fresh token, which would extend it forever.
	if s == nil || s.Status != StatusActive || s.Source != SourceCookie {
		h.fail(w, r, errSessionNeeded, true)
		return
	}
	var opts []TokenOption
	if q.Get("skipCache") == "true" {
		opts = append(opts, SkipCache())
	}
	raw, err := h.m.GetToken(r.Context(), s, name, opts...)
	if err != nil {
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: minting a token failed", "template", name, "error", err.Error())
		h.fail(w, r, &handlerError{http.StatusInternalServerError, "TokenError", "the token could not be minted"}, true)
		return
	}
	page.WriteJSON(w, http.StatusOK, map[string]string{"jwt": raw})
}

// getJWKS serves the JWK Set of Config.Tokens' public keys.
func (h *authHandler) getJWKS(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.minter == nil {
		h.fail(w, r, errNoTokens, true)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/jwk-set+json")
	// Public keys: cacheable, unlike the other endpoints' answers.
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Del("Pragma")
	hd.Del("Expires")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(h.m.minter.signer.JWKS())
}
