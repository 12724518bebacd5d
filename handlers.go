package sessionkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Handler returns the session endpoints, compatible with the REST API that
// the Auth.js client (next-auth/react v4: useSession, getSession,
// getCsrfToken, getProviders, signIn, signOut, update) calls. Mount it at
// Config.BasePath without stripping the prefix:
//
//	mux.Handle(sessionkit.DefaultBasePath+"/", m.Handler())
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
//	POST /backchannel-logout OpenID Connect Back-Channel Logout 1.0 (with a Config.Store; see BackChannelLogout)
//	GET  /token?template=NAME {"jwt": "..."}: a token from GetToken (401 without a session, 404 for an unknown template)
//	GET  /jwks.json         the JWK Set of Config.Tokens' keys
//	POST /exchange          ticket: ExchangeTicket; CSRF-checked; 400 forged, 410 expired, 409 replayed (with a Config.Store)
//	POST /switch            signInId: SwitchSignIn; CSRF-checked; 404 for an unknown sign-in
//	POST /organization      organizationId: SwitchOrganization; CSRF-checked; 403 when AuthorizeScope refuses
//	POST /workspace         workspaceId: SwitchWorkspace; CSRF-checked; 403 when AuthorizeScope refuses
//
// The session JSON has Auth.js's shape, {"user": {"name", "email",
// "image"}, "expires": ISO 8601}, and adds "status", "provider",
// "accessTokenExpiresAt", "idTokenExpiresAt", "activeSignInId",
// "activeOrganizationId", "activeWorkspaceId", "error", "actor", the
// user's "id" and, for a session with several sign-ins, "signIns" (each
// with "id", "user", "provider", "activeOrganizationId",
// "activeWorkspaceId" and "actor"). It never holds the refresh token or the ID token, and holds
// the access token ("accessToken") only with Config.ExposeAccessToken.
//
// Sign-in is the authorization-code flow with PKCE (S256), state and, for
// OpenID Connect, nonce, all three bound to the browser by a sealed cookie
// that lives for Config.SignInStateLifetime and serves one callback: the
// callback consumes the state on the server too, with Config.Store's
// Consume when there is a Store (every instance sees it), otherwise in a
// bounded record in this process (a replay on another instance is not
// seen). Each sign-in has its own cookie, named after its state, so
// sign-ins started in several tabs all finish; at most four are kept, and
// a start from this site past that ends the oldest. GET /signin/{id} from
// another site (Sec-Fetch-Site: cross-site) passes no provider parameters
// and no addAccount through, never ends a sign-in in progress, and gets 409
// when there is no room.
// callbackUrl (query or form) must be a path on this site or a URL on its
// origin (Config.URL, or the request's); anything else is refused with 400,
// never followed.
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
	if m.cfg.URL != "" {
		o, _ := parseOrigin(m.cfg.URL) // validated by New
		h.origin = &o
	}
	prefix := "__Host-"
	if m.cfg.InsecureCookies {
		prefix = ""
	}
	h.csrfCookie = prefix + m.cfg.CookieName + ".csrf-token"
	h.flowCookie = prefix + m.cfg.CookieName + ".oauth-state"
	if m.cookies != nil {
		trusted := ""
		if h.origin != nil {
			trusted = h.origin.String()
		}
		g, err := newCSRFGuard(m.cfg.Keys, trusted)
		if err != nil { // cannot happen: keys and origin were validated
			m.cfg.Logger.Error("sessionkit: the CSRF guard could not be set up; cookie endpoints are disabled", "error", err.Error())
		} else {
			h.csrf = g
		}
	}
	return m.Middleware(h)
}

// maxBody bounds what the endpoints read from a request body.
const maxBody = 64 << 10

// handlerDefaults validates and fills in the fields Handler uses.
func (s *settings) handlerDefaults() error {
	if s.SignInStateLifetime == 0 {
		s.SignInStateLifetime = DefaultSignInStateLifetime
	}
	if s.SignInStateLifetime < time.Minute || s.SignInStateLifetime > time.Hour {
		return configErr("SignInStateLifetime", "must be between 1m and 1h, got %s", s.SignInStateLifetime)
	}
	origin := appOrigin{scheme: "http", host: "sessionkit.invalid"}
	if s.URL != "" {
		o, err := parseOrigin(s.URL)
		if err != nil {
			return &ConfigError{Field: "URL", Reason: "must be the application's http(s) origin, such as https://app.example", Err: err}
		}
		origin = o
	}
	if s.SignOutRedirect == "" {
		s.SignOutRedirect = "/"
	}
	if _, err := safeCallbackURL(s.SignOutRedirect, origin); err != nil {
		return &ConfigError{Field: "SignOutRedirect", Reason: "must be a path on this site, or a URL on Config.URL's origin", Err: err}
	}
	return nil
}

// authHandler serves Handler's endpoints.
type authHandler struct {
	m          *Manager
	base       string
	origin     *appOrigin // nil: taken from each request
	csrf       *csrfGuard // nil without cookie keys
	csrfCookie string
	flowCookie string
	secure     bool
}

// handlerError is an answer to a request that failed.
type handlerError struct {
	status  int
	code    string // Auth.js-style error name, for clients
	message string // for people; never holds a credential
}

func (e *handlerError) Error() string { return "sessionkit: " + e.message }

var errCSRFAnswer = &handlerError{http.StatusForbidden, "MissingCSRF", ErrCSRF.Error()[len("sessionkit: "):]}

func (h *authHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-cache, no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("Expires", "0")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Add("Vary", "Cookie")

	rest, ok := strings.CutPrefix(r.URL.Path, h.base)
	if !ok || !strings.HasPrefix(rest, "/") {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "not found"}, true)
		return
	}
	action, arg, _ := strings.Cut(rest[1:], "/")
	type route struct {
		get, post func(http.ResponseWriter, *http.Request, string)
		withArg   bool
		cookies   bool // needs cookie keys
	}
	var rt route
	switch action {
	case "session":
		rt = route{get: h.getSession, post: h.postSession}
	case "csrf":
		rt = route{get: h.getCSRF, cookies: true}
	case "providers":
		rt = route{get: h.getProviders}
	case "signin":
		if arg == "" {
			rt = route{get: h.signInPage, cookies: true}
		} else {
			rt = route{get: h.getSignIn, post: h.postSignIn, withArg: true, cookies: true}
		}
	case "callback":
		rt = route{get: h.callback, withArg: true, cookies: true}
	case "signout":
		rt = route{get: h.signOutPage, post: h.postSignOut, cookies: true}
	case "error":
		rt = route{get: h.errorPage}
	case "backchannel-logout":
		rt = route{post: h.backchannelLogout}
	case "token":
		rt = route{get: h.getToken}
	case "jwks.json":
		rt = route{get: h.getJWKS}
	case "exchange":
		rt = route{post: h.postExchange, cookies: true}
	case "switch":
		rt = route{post: h.postSwitch, cookies: true}
	case "organization":
		rt = route{post: h.postOrganization, cookies: true}
	case "workspace":
		rt = route{post: h.postWorkspace, cookies: true}
	default:
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "not found"}, false)
		return
	}
	if rt.withArg != (arg != "") || strings.Contains(arg, "/") {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "not found"}, false)
		return
	}
	if rt.cookies && h.csrf == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "cookie sessions are not configured (Config.Keys is empty)"}, false)
		return
	}
	var f func(http.ResponseWriter, *http.Request, string)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f = rt.get
	case http.MethodPost:
		f = rt.post
	}
	if f == nil {
		allow := []string{}
		if rt.get != nil {
			allow = append(allow, "GET", "HEAD")
		}
		if rt.post != nil {
			allow = append(allow, "POST")
		}
		hd.Set("Allow", strings.Join(allow, ", "))
		h.fail(w, r, &handlerError{http.StatusMethodNotAllowed, "UnknownAction", "method not allowed"}, false)
		return
	}
	f(w, r, arg)
}

// originOf is the application's origin: Config.URL, or the request's.
func (h *authHandler) originOf(r *http.Request) appOrigin {
	if h.origin != nil {
		return *h.origin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return normOrigin(scheme, r.Host)
}

// callbackURL validates raw (def when empty) against the app's origin.
func (h *authHandler) callbackURL(r *http.Request, raw, def string) (string, *handlerError) {
	if raw == "" {
		raw = def
	}
	u, err := safeCallbackURL(raw, h.originOf(r))
	if err != nil {
		return "", &handlerError{http.StatusBadRequest, "InvalidCallbackUrl", err.Error()[len("sessionkit: "):]}
	}
	return u, nil
}

// --- session ---

// isoTime is a time in JavaScript's Date.prototype.toISOString format.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func isoOrNil(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	v := isoTime(t)
	return &v
}

// clientUser is Auth.js's session user, plus the user's ID.
type clientUser struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Image string `json:"image,omitempty"`
}

// clientSession is the JSON of GET /session.
type clientSession struct {
	User                 clientUser `json:"user"`
	Expires              isoTime    `json:"expires"`
	Status               Status     `json:"status"`
	Provider             string     `json:"provider,omitempty"`
	AccessToken          string     `json:"accessToken,omitempty"`
	AccessTokenExpiresAt *isoTime   `json:"accessTokenExpiresAt,omitempty"`
	IDTokenExpiresAt     *isoTime   `json:"idTokenExpiresAt,omitempty"`
	ActiveSignInID       string     `json:"activeSignInId,omitempty"`
	ActiveOrganizationID string     `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string     `json:"activeWorkspaceId,omitempty"`
	Error                string     `json:"error,omitempty"`
	Actor                *Actor     `json:"actor,omitempty"`
	// SignIns lists the sign-ins of a multi-sign-in session (more than
	// one), without their tokens.
	SignIns []clientSignIn `json:"signIns,omitempty"`
}

// clientSignIn is one sign-in of a multi-sign-in session, in the JSON of
// GET /session.
type clientSignIn struct {
	ID                   string     `json:"id"`
	User                 clientUser `json:"user"`
	Provider             string     `json:"provider,omitempty"`
	ActiveOrganizationID string     `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string     `json:"activeWorkspaceId,omitempty"`
	Actor                *Actor     `json:"actor,omitempty"`
}

func (h *authHandler) clientSession(s *Session) clientSession {
	name := s.User.Name
	if name == "" {
		name = strings.TrimSpace(s.User.FirstName + " " + s.User.LastName)
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	c := clientSession{
		User:                 clientUser{ID: s.User.ID, Name: name, Email: s.User.Email, Image: s.User.Image},
		Expires:              isoTime(expires),
		Status:               s.Status,
		Provider:             s.Provider,
		AccessTokenExpiresAt: isoOrNil(s.AccessTokenExpiresAt),
		IDTokenExpiresAt:     isoOrNil(s.IDTokenExpiresAt),
		ActiveSignInID:       s.SignIn.ID,
		ActiveOrganizationID: s.ActiveOrganizationID,
		ActiveWorkspaceID:    s.ActiveWorkspaceID,
		Error:                s.Error,
		Actor:                cloneActor(s.Actor),
	}
	if h.m.cfg.ExposeAccessToken {
		c.AccessToken = s.AccessToken
	}
	if len(s.OtherSignIns) > 0 {
		for _, in := range s.SignIns() {
			u := in.User
			c.SignIns = append(c.SignIns, clientSignIn{ID: in.ID, Provider: in.Provider,
				User:                 clientUser{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image},
				ActiveOrganizationID: in.ActiveOrganizationID, ActiveWorkspaceID: in.ActiveWorkspaceID, Actor: cloneActor(in.Actor)})
		}
	}
	return c
}

// writeSession answers the request's session, or {} without an active
// one (next-auth v4 reads {} as signed out; null would be a fetch error),
// or null with Config.NullSession (Auth.js v5).
func (h *authHandler) writeSession(w http.ResponseWriter, s *Session) {
	if !s.Active() {
		if h.m.cfg.NullSession {
			writeJSON(w, http.StatusOK, nil)
		} else {
			writeJSON(w, http.StatusOK, struct{}{})
		}
		return
	}
	writeJSON(w, http.StatusOK, h.clientSession(s))
}

func (h *authHandler) getSession(w http.ResponseWriter, r *http.Request, _ string) {
	s, _ := h.m.GetServerSession(r)
	h.writeSession(w, s)
}

func (h *authHandler) postSession(w http.ResponseWriter, r *http.Request, _ string) {
	if h.csrf == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "cookie sessions are not configured (Config.Keys is empty)"}, true)
		return
	}
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return
	}
	if !h.csrfOK(r, b.csrfToken) {
		h.fail(w, r, errCSRFAnswer, true)
		return
	}
	s, err := h.m.GetServerSession(r)
	if err != nil || !s.Active() || h.m.cfg.UpdateFromClient == nil {
		h.writeSession(w, s)
		return
	}
	hook := h.m.cfg.UpdateFromClient
	s, err = h.m.UpdateSession(w, r, func(s *Session) error {
		var herr error
		if !h.m.safely(r.Context(), "UpdateFromClient", func() { herr = hook(r, s, b.data) }) && herr == nil {
			herr = errHookPanicked
		}
		return herr
	})
	switch {
	case errors.Is(err, errHookPanicked):
		h.fail(w, r, &handlerError{http.StatusInternalServerError, "UpdateError", "the session update failed"}, true)
	case err != nil:
		h.fail(w, r, &handlerError{http.StatusBadRequest, "UpdateError", "the session update was refused"}, true)
	default:
		h.writeSession(w, s)
	}
}

var errHookPanicked = errors.New("sessionkit: UpdateFromClient panicked")

// --- csrf ---

// csrfToken returns the token of r's CSRF cookie, or issues a new one and
// sets its cookie on w.
func (h *authHandler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.csrfCookie); err == nil {
		if t, ok := h.csrf.tokenFrom(c.Value); ok {
			return t
		}
	}
	token, value := h.csrf.issue()
	h.setCookie(w, h.csrfCookie, value, 0)
	return token
}

// csrfOK runs both CSRF checks on a POST.
func (h *authHandler) csrfOK(r *http.Request, submitted string) bool {
	cookie := ""
	if c, err := r.Cookie(h.csrfCookie); err == nil {
		cookie = c.Value
	}
	return h.csrf.check(r, cookie, submitted) == nil
}

func (h *authHandler) getCSRF(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]string{"csrfToken": h.csrfToken(w, r)})
}

// --- providers ---

type clientProvider struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SignInURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

func (h *authHandler) providerList(r *http.Request) []clientProvider {
	base := h.originOf(r).String() + h.base
	out := make([]clientProvider, 0, len(h.m.providers))
	for _, p := range h.m.providers {
		typ := "oauth"
		if p.cfg.Issuer != "" {
			typ = "oidc"
		}
		out = append(out, clientProvider{ID: p.cfg.ID, Name: p.cfg.Name, Type: typ,
			SignInURL: base + "/signin/" + p.cfg.ID, CallbackURL: base + "/callback/" + p.cfg.ID})
	}
	return out
}

func (h *authHandler) getProviders(w http.ResponseWriter, r *http.Request, _ string) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range h.providerList(r) {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.ID)
		v, _ := json.Marshal(p)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// --- sign-in ---

func (h *authHandler) getSignIn(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	cb, herr := h.callbackURL(r, q.Get("callbackUrl"), "/")
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	if isCrossSite(r) {
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

// --- sign-out ---

func (h *authHandler) postSignOut(w http.ResponseWriter, r *http.Request, _ string) {
	b, cb, wantJSON, ok := h.postForm(w, r, "/signout", h.m.cfg.SignOutRedirect)
	if !ok {
		return
	}
	if b.signInID != "" {
		s, err := h.m.SignOutOne(w, r, b.signInID)
		switch {
		case err != nil:
			h.failSwitch(w, r, err)
		case s == nil: // the last sign-in: the session is over
			h.redirect(w, r, cb, wantJSON)
		default:
			h.writeSession(w, s)
		}
		return
	}
	if err := h.m.SignOut(w, r); err != nil {
		h.fail(w, r, &handlerError{http.StatusInternalServerError, "SignOutError", "the session could not be cleared"}, wantJSON)
		return
	}
	h.redirect(w, r, cb, wantJSON)
}

// postForm reads the body of a POST to page ("/signin" or "/signout") and
// checks its CSRF token and callbackUrl (defaulting to defaultCallback).
// When one fails it answers, as next-auth's clients expect, and reports
// false. wantJSON says whether the client asked for a JSON answer.
func (h *authHandler) postForm(w http.ResponseWriter, r *http.Request, page, defaultCallback string) (b postBody, cb string, wantJSON, ok bool) {
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return b, "", false, false
	}
	wantJSON = b.json || r.Header.Get("X-Auth-Return-Redirect") == "1"
	if !h.csrfOK(r, b.csrfToken) {
		h.failRedirect(w, r, errCSRFAnswer, page+"?csrf=true", wantJSON)
		return b, "", wantJSON, false
	}
	cb, herr = h.callbackURL(r, b.callbackURL(r), defaultCallback)
	if herr != nil {
		h.failRedirect(w, r, herr, page+"?error=InvalidCallbackUrl", wantJSON)
		return b, "", wantJSON, false
	}
	return b, cb, wantJSON, true
}

// --- responses ---

// redirect answers with a 302 to u, or, when the client asked for JSON
// (next-auth's json=true, Auth.js v5's X-Auth-Return-Redirect: 1), with
// 200 and {"url": u}.
func (h *authHandler) redirect(w http.ResponseWriter, r *http.Request, u string, wantJSON bool) {
	if wantJSON {
		writeJSON(w, http.StatusOK, map[string]string{"url": u})
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// failRedirect answers a failed POST /signin or /signout: with JSON the
// error carries the URL of the page to show (next-auth's clients read
// "url"), otherwise the error page.
func (h *authHandler) failRedirect(w http.ResponseWriter, r *http.Request, e *handlerError, page string, wantJSON bool) {
	if !wantJSON {
		h.fail(w, r, e, false)
		return
	}
	writeJSON(w, e.status, map[string]string{"url": h.originOf(r).String() + h.base + page, "error": e.code, "message": e.message})
}

// fail answers e as JSON for API requests (or when forced), as an HTML
// page otherwise.
func (h *authHandler) fail(w http.ResponseWriter, r *http.Request, e *handlerError, forceJSON bool) {
	if forceJSON || isAPIRequest(r) {
		writeJSON(w, e.status, map[string]string{"error": e.code, "message": e.message})
		return
	}
	h.render(w, e.status, errorTmpl, errorData{Status: e.status, StatusText: http.StatusText(e.status),
		Code: e.code, Message: e.message, SignIn: h.base + "/signin"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// setCookie sets one of the handler's own cookies: host-only, Path "/",
// HttpOnly, SameSite=Lax, Secure unless Config.InsecureCookies. maxAge 0
// makes a browser-session cookie.
func (h *authHandler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
	if maxAge > 0 {
		c.Expires = h.m.cfg.Now().Add(time.Duration(maxAge) * time.Second).UTC()
	}
	http.SetCookie(w, c)
}

func (h *authHandler) expireCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(1, 0)})
}

// --- request bodies ---

// postBody is what the endpoints read from a POST: a form
// (application/x-www-form-urlencoded, as next-auth's signIn and signOut
// send) or a JSON object (as its update() sends).
type postBody struct {
	csrfToken string
	callback  string
	json      bool
	data      json.RawMessage
	// The arguments of the multi-session endpoints.
	signInID, organizationID, workspaceID, ticket string
}

// callbackURL is the body's callbackUrl, or the query's.
func (b postBody) callbackURL(r *http.Request) string {
	if b.callback != "" {
		return b.callback
	}
	return r.URL.Query().Get("callbackUrl")
}

// errPostTooLarge answers a POST body over maxBody.
var errPostTooLarge = &handlerError{http.StatusRequestEntityTooLarge, "BadRequest", fmt.Sprintf("the body exceeds %d bytes", maxBody)}

func readBody(w http.ResponseWriter, r *http.Request) (postBody, *handlerError) {
	var b postBody
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	tooLarge := func(err error) bool {
		var mbe *http.MaxBytesError
		return errors.As(err, &mbe)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		raw, err := io.ReadAll(r.Body)
		if tooLarge(err) {
			return b, errPostTooLarge
		}
		var body struct {
			CSRFToken   string          `json:"csrfToken"`
			CallbackURL string          `json:"callbackUrl"`
			JSON        json.RawMessage `json:"json"`
			Data        json.RawMessage `json:"data"`
			SignInID    string          `json:"signInId"`
			OrgID       string          `json:"organizationId"`
			WorkspaceID string          `json:"workspaceId"`
			Ticket      string          `json:"ticket"`
		}
		if err != nil || (len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &body) != nil) {
			return b, &handlerError{http.StatusBadRequest, "BadRequest", "the body is not a JSON object of the expected shape"}
		}
		b.csrfToken, b.callback, b.signInID = body.CSRFToken, body.CallbackURL, body.SignInID
		b.organizationID, b.workspaceID, b.ticket = body.OrgID, body.WorkspaceID, body.Ticket
		j := string(bytes.TrimSpace(body.JSON))
		b.json = j == "true" || j == `"true"`
		if len(body.Data) > 0 && string(body.Data) != "null" {
			b.data = body.Data
		}
	case "", "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			if tooLarge(err) {
				return b, errPostTooLarge
			}
			return b, &handlerError{http.StatusBadRequest, "BadRequest", "the form is malformed"}
		}
		b.csrfToken = r.PostForm.Get("csrfToken")
		b.callback = r.PostForm.Get("callbackUrl")
		b.json = r.PostForm.Get("json") == "true"
		b.signInID = r.PostForm.Get("signInId")
		b.organizationID = r.PostForm.Get("organizationId")
		b.workspaceID = r.PostForm.Get("workspaceId")
		b.ticket = r.PostForm.Get("ticket")
		if d := r.PostForm.Get("data"); d != "" && json.Valid([]byte(d)) {
			b.data = json.RawMessage(d)
		}
	default:
		return b, &handlerError{http.StatusUnsupportedMediaType, "BadRequest", "send a form or a JSON object"}
	}
	return b, nil
}

// --- pages ---

func (h *authHandler) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type signInData struct {
	Providers []clientProvider
	CSRFToken string
	Callback  string
	Error     string
}

func (h *authHandler) signInPage(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	if h.m.cfg.SignInURL != h.base+"/signin" {
		// The application has its own sign-in page.
		u, err := url.Parse(h.m.cfg.SignInURL)
		if err == nil {
			uq := u.Query()
			for _, k := range []string{"callbackUrl", "error"} {
				if v := q.Get(k); v != "" {
					uq.Set(k, v)
				}
			}
			u.RawQuery = uq.Encode()
			http.Redirect(w, r, u.String(), http.StatusFound)
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
		msg = "Sign-in failed (" + sanitizeCode(q.Get("error")) + "). Please try again."
	}
	h.render(w, http.StatusOK, signInTmpl, signInData{Providers: h.providerList(r), CSRFToken: h.csrfToken(w, r), Callback: cb, Error: msg})
}

func (h *authHandler) signOutPage(w http.ResponseWriter, r *http.Request, _ string) {
	cb, herr := h.callbackURL(r, r.URL.Query().Get("callbackUrl"), h.m.cfg.SignOutRedirect)
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	h.render(w, http.StatusOK, signOutTmpl, struct {
		Action, CSRFToken, Callback string
	}{h.base + "/signout", h.csrfToken(w, r), cb})
}

type errorData struct {
	Status     int
	StatusText string
	Code       string
	Message    string
	SignIn     string
}

func (h *authHandler) errorPage(w http.ResponseWriter, r *http.Request, _ string) {
	code := sanitizeCode(r.URL.Query().Get("error"))
	h.render(w, http.StatusBadRequest, errorTmpl, errorData{Status: http.StatusBadRequest, StatusText: "Sign-in error",
		Code: code, Message: "Sign-in failed (" + code + ").", SignIn: h.base + "/signin"})
}

const pageStyle = `<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{display:block;width:100%;margin:.5rem 0;padding:.6rem 1rem;font-size:1rem;cursor:pointer}.error{color:#a00}</style>`

var signInTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign in</title>` + pageStyle + `</head><body>
<h1>Sign in</h1>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
{{range .Providers}}<form method="post" action="{{.SignInURL}}">
<input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{$.Callback}}">
<button type="submit" id="signin-{{.ID}}">Sign in with {{.Name}}</button>
</form>
{{else}}<p>No identity provider is configured.</p>{{end}}
</body></html>`))

var signOutTmpl = template.Must(template.New("signout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign out</title>` + pageStyle + `</head><body>
<h1>Sign out</h1><p>Are you sure you want to sign out?</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{.Callback}}">
<button type="submit" id="signout">Sign out</button>
</form></body></html>`))

var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.StatusText}}</title>` + pageStyle + `</head><body>
<h1>{{.StatusText}}</h1>
<p class="error" id="error" data-code="{{.Code}}">{{.Message}}</p>
<p><a href="{{.SignIn}}">Sign in again</a></p>
</body></html>`))
