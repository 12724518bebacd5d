package sessionkit

import (
	"net/http"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/csrf"
	"github.com/sessionkit/sessionkit/internal/flow"
	"github.com/sessionkit/sessionkit/internal/page"
	"github.com/sessionkit/sessionkit/internal/redirect"
	"github.com/sessionkit/sessionkit/internal/route"
)

// Handler returns the session endpoints, compatible with the REST API that
// the Auth.js client (next-auth/react v4: useSession, getSession,
// getCsrfToken, getProviders, signIn, signOut, update) calls. Mount it at
// Config.BasePath without stripping the prefix:
//
//	mux.Handle("/api/auth/", m.Handler())
//
// Paths are relative to BasePath:
//
//	GET  /session           the session as JSON (see below); {} when signed out (null with Config.NullSession)
//	POST /session           client update (Auth.js update(data)); CSRF-checked
//	GET  /csrf              {"csrfToken": "..."} and the double-submit cookie
//	GET  /providers         {"<id>": {"id","name","type","signinUrl","callbackUrl"}}
//	GET  /signin            an HTML page with a button per provider
//	GET  /signin/{id}       302 to the provider's authorization endpoint; ?addAccount=true adds the
//	                        account to the current session (AddSignIn) instead of replacing it;
//	                        login_hint, prompt, ui_locales, max_age, acr_values go to the provider
//	                        (not from a cross-site request)
//	POST /signin/{id}       the same, CSRF-checked; json=true answers {"url"}
//	GET  /callback/{id}     the provider's redirect back; 302 to callbackUrl
//	GET  /signout           an HTML page that confirms sign-out
//	POST /signout           clear the session cookie, CSRF-checked; json=true answers {"url"};
//	                        with signInId, sign that sign-in out only (SignOutOne) and answer the session JSON
//	GET  /error             an HTML page for ?error=CODE
//	POST /backchannel-logout OpenID Connect Back-Channel Logout 1.0 (a Config.Store that is a store.Consumer,
//	                        and a store.ProviderSessionLister for "sid", a store.UserLister for "sub" alone)
//	GET  /token?template=NAME {"jwt": "..."}: a token from GetToken (401 without a session, 404 for an unknown template)
//	GET  /jwks.json         the JWK Set of Config.Tokens' keys
//	POST /exchange          ticket: ExchangeTicket; CSRF-checked; 400 forged, 410 expired, 409 replayed (with a Config.Store)
//	POST /switch            signInId: SwitchSignIn; CSRF-checked; 404 for an unknown sign-in
//	POST /organization      organizationId: SwitchScope; CSRF-checked; 403 when AuthorizeScope refuses
//	POST /workspace         workspaceId: SwitchScope; CSRF-checked; 403 when AuthorizeScope refuses
//
// The session JSON has Auth.js's shape, {"user": {"name", "email",
// "image"}, "expires": ISO 8601}, plus the user's "id", "status",
// "provider", "accessTokenExpiresAt", "idTokenExpiresAt", "activeSignInId",
// "activeOrganizationId", "activeWorkspaceId", "error", "actor" and, with
// several sign-ins, "signIns" (each with "id", "user", "provider", the
// active organization and workspace IDs and "actor"). It never holds the
// refresh token or the ID token, and holds the access token
// ("accessToken") only with Config.ExposeAccessToken.
//
// Sign-in is the authorization-code flow with PKCE (S256), state and, for
// OpenID Connect, nonce, bound to the browser by a sealed cookie of its
// own (sign-ins started in several tabs all finish) that lives for 10
// minutes and serves one callback: the state is also
// consumed on the server, in Config.Store across instances when it is a
// store.Consumer, otherwise in this process only. A browser keeps at most
// four sign-ins in progress; a start from this site past that ends the
// oldest. GET /signin/{id} from another site (Sec-Fetch-Site: cross-site)
// passes no provider parameters and no addAccount through, never ends a
// sign-in in progress, and gets 409 when there is no room. callbackUrl
// (query or form) must be a path on this site or a URL on its origin
// (Config.URL, or the request's); anything else gets 400, never followed.
//
// Every state-changing request (POST) must pass two checks, or gets 403:
// it must not be cross-origin (Sec-Fetch-Site, or Origin against Host, as
// http.CrossOriginProtection decides), and its csrfToken (form field or
// JSON member) must match the token in the CSRF cookie issued by GET /csrf
// or the HTML pages (double submit, compared in constant time).
//
// Status codes: 400 for malformed input, a bad callbackUrl, a missing or
// mismatched state, a refused authorization code or ID token, a forged
// ticket; 401 when /token, /switch, /organization or /workspace find no
// active session; 403 for CSRF failures, access_denied and refused scope
// switches; 404 for unknown paths, providers, templates and sign-ins (and
// for the cookie endpoints when Config.Keys is empty, the token endpoints
// without Config.Tokens, /exchange without Config.Store); 405 for a wrong
// method; 409 for a ticket used before; 410 for an expired ticket;
// 413 for a body over 64 KiB; 502 when the provider cannot be reached or
// fails (an upstream failure). Errors are JSON ({"error", "message"}) for
// API requests and JSON-only endpoints, an HTML page otherwise. No answer
// repeats a credential.
//
// Handler runs Middleware, so the endpoints see (and GET /session
// answers) the session as every other handler does. It is safe for
// concurrent use.
func (m *Manager) Handler() http.Handler {
	h := &authHandler{m: m, base: m.cfg.BasePath, secure: !m.cfg.InsecureCookies}
	trusted := ""
	if m.cfg.URL != "" {
		o, _ := redirect.ParseOrigin(m.cfg.URL) // validated by New
		h.origin, trusted = &o, o.String()
	}
	// The handler's own cookies are host-only: "__Host-" unless insecure.
	own := func(suffix string) string {
		return cookie.Name(m.cfg.CookieName+suffix, "", "/", m.cfg.InsecureCookies)
	}
	h.csrfCookie = own(".csrf-token")
	if m.cookies != nil {
		h.flows = &flow.Cookies{Sealer: m.cookies.flow, Prefix: own(".oauth-state"), Now: m.cfg.Now}
		g, err := csrf.New(m.cfg.Keys, trusted)
		if err != nil { // cannot happen: keys and origin were validated
			m.cfg.Logger.Error("sessionkit: the CSRF guard could not be set up; cookie endpoints are disabled", "error", err.Error())
		} else {
			h.csrf = g
		}
	}
	h.routes = h.routeTable()
	return m.Middleware(h)
}

// authHandler serves Handler's endpoints.
type authHandler struct {
	m          *Manager
	base       string
	origin     *redirect.Origin // nil: taken from each request
	csrf       *csrf.Guard      // nil without cookie keys
	flows      *flow.Cookies    // nil without cookie keys
	csrfCookie string
	secure     bool
	routes     map[string]route.Route
}

// handlerError is an answer to a request that failed.
type handlerError struct {
	status  int
	code    string // Auth.js-style error name, for clients
	message string // for people; never holds a credential
}

func (e *handlerError) Error() string { return "sessionkit: " + e.message }

var errCSRFAnswer = &handlerError{http.StatusForbidden, "MissingCSRF", csrf.ErrRefused.Error()[len("sessionkit: "):]}

// routeTable is Handler's routes (see route.Match).
func (h *authHandler) routeTable() map[string]route.Route {
	return map[string]route.Route{
		"session":            {Get: h.getSession, Post: h.postSession},
		"csrf":               {Get: h.getCSRF, Cookies: true},
		"providers":          {Get: h.getProviders},
		"signin":             {Get: h.signInPage, Cookies: true},
		"signin/*":           {Get: h.getSignIn, Post: h.postSignIn, Cookies: true},
		"callback/*":         {Get: h.callback, Cookies: true},
		"signout":            {Get: h.signOutPage, Post: h.postSignOut, Cookies: true},
		"error":              {Get: h.errorPage},
		"backchannel-logout": {Post: h.backchannelLogout},
		"token":              {Get: h.getToken},
		"jwks.json":          {Get: h.getJWKS},
		"exchange":           {Post: h.postExchange, Cookies: true},
		"switch":             {Post: h.postSwitch, Cookies: true},
		"organization":       {Post: h.postScope(ScopeOrganization), Cookies: true},
		"workspace":          {Post: h.postScope(ScopeWorkspace), Cookies: true},
	}
}

var (
	errNotFound  = &handlerError{http.StatusNotFound, "UnknownAction", "not found"}
	errNoCookies = &handlerError{http.StatusNotFound, "UnknownAction", "cookie sessions are not configured (Config.Keys is empty)"}
)

func (h *authHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page.NoStore(w.Header())
	rt, arg, o := route.Match(h.routes, h.base, r.URL.Path)
	switch {
	case o == route.Outside:
		h.fail(w, r, errNotFound, true)
	case o == route.Unknown:
		h.fail(w, r, errNotFound, false)
	case rt.Cookies && h.csrf == nil:
		h.fail(w, r, errNoCookies, false)
	default:
		h.serveMethod(w, r, rt, arg)
	}
}

// serveMethod runs the endpoint of rt for r's method, or answers 405.
func (h *authHandler) serveMethod(w http.ResponseWriter, r *http.Request, rt route.Route, arg string) {
	if f, allow := rt.For(r.Method); f != nil {
		f(w, r, arg)
	} else {
		w.Header().Set("Allow", allow)
		h.fail(w, r, &handlerError{http.StatusMethodNotAllowed, "UnknownAction", "method not allowed"}, false)
	}
}

// originOf is the application's origin: Config.URL, or the request's.
func (h *authHandler) originOf(r *http.Request) redirect.Origin {
	if h.origin != nil {
		return *h.origin
	}
	return redirect.OfRequest(r)
}

// callbackURL validates raw (def when empty) against the app's origin.
func (h *authHandler) callbackURL(r *http.Request, raw, def string) (string, *handlerError) {
	if raw == "" {
		raw = def
	}
	u, err := redirect.Resolve(raw, h.originOf(r))
	if err != nil {
		return "", &handlerError{http.StatusBadRequest, "InvalidCallbackUrl", err.Error()[len("sessionkit: "):]}
	}
	return u, nil
}

// redirect answers with a 302 to u, or, when the client asked for JSON
// (next-auth's json=true, Auth.js v5's X-Auth-Return-Redirect: 1), with
// 200 and {"url": u}.
func (h *authHandler) redirect(w http.ResponseWriter, r *http.Request, u string, wantJSON bool) {
	if wantJSON {
		page.WriteJSON(w, http.StatusOK, map[string]string{"url": u})
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// failRedirect answers a failed POST /signin or /signout: with JSON the
// error carries the URL of the page to show (next-auth's clients read
// "url"), otherwise the error page.
func (h *authHandler) failRedirect(w http.ResponseWriter, r *http.Request, e *handlerError, to string, wantJSON bool) {
	if !wantJSON {
		h.fail(w, r, e, false)
		return
	}
	page.WriteJSON(w, e.status, map[string]string{"url": h.originOf(r).String() + h.base + to, "error": e.code, "message": e.message})
}

// fail answers e as JSON for API requests (or when forced), as an HTML
// page otherwise.
func (h *authHandler) fail(w http.ResponseWriter, r *http.Request, e *handlerError, forceJSON bool) {
	if forceJSON || page.IsAPI(r) {
		page.WriteJSON(w, e.status, map[string]string{"error": e.code, "message": e.message})
		return
	}
	page.Render(w, e.status, page.Error{Status: e.status, StatusText: http.StatusText(e.status),
		Code: e.code, Message: e.message, SignIn: h.base + "/signin"})
}

// setCookie sets one of the handler's own cookies (cookie.Own).
func (h *authHandler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, cookie.Own(name, value, maxAge, h.secure, h.m.cfg.Now()))
}

func (h *authHandler) expireCookie(w http.ResponseWriter, name string) { h.setCookie(w, name, "", -1) }
