package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit"
)

// pageData is what the server-rendered pages show of a session.
type pageData struct {
	S                  *sessionkit.Session
	Name               string
	AccessFingerprint  string
	AccessTokenExpires string
	AccessTokenIssued  time.Time // zero when unknown
	IDTokenExpires     string
	Organizations      []string // the organizations the user may switch to
}

func view(s *sessionkit.Session) pageData {
	if s == nil {
		return pageData{}
	}
	name := s.User.Name
	if name == "" {
		name = s.User.FirstName + " " + s.User.LastName
	}
	return pageData{S: s, Name: name, AccessFingerprint: fingerprint(s.AccessToken),
		AccessTokenExpires: fmtTime(s.AccessTokenExpiresAt), AccessTokenIssued: s.AccessTokenIssuedAt.UTC(),
		IDTokenExpires: fmtTime(s.IDTokenExpiresAt), Organizations: demoOrganizations}
}

// ago is how long ago t was, in whole seconds.
func ago(t time.Time) string {
	return time.Since(t).Round(time.Second).String()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339) + " (in " + time.Until(t).Round(time.Second).String() + ")"
}

// layoutData is what every page's frame shows: the page's title and path
// (its navigation link is marked current), the signed-in user in the
// header, and the page's own data, which its "body" template reads.
type layoutData struct {
	Title string
	Path  string
	User  *sessionkit.User // nil when signed out
	Body  any
}

// navLinks are the demo's pages, each linked from every page's header.
var navLinks = []struct{ Href, Label string }{
	{"/", "Home"},
	{"/protected", "Protected"},
	{"/client", "Client"},
	{"/sessions", "Sessions"},
	{"/api/me", "/api/me"},
	{"/api/auth/token?template=api", "Token"},
	{"/api/auth/session", "/api/auth/session"},
}

const layout = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · sessionkit demo</title><link rel="stylesheet" href="/static/demo.css"></head><body>
<header class="bar"><div class="inner"><a class="brand" href="/">sessionkit demo</a>
<nav>{{range navLinks}}<a href="{{.Href}}"{{if eq .Href $.Path}} aria-current="page"{{end}}>{{.Label}}</a>{{end}}</nav>
<div class="who">{{with .User}}<span id="header-user">{{or .Name .Email .ID}}</span>{{with .Email}} <span class="email">{{.}}</span>{{end}}
· <a id="header-signout" href="/api/auth/signout?callbackUrl=%2F">Sign out</a>{{else}}<a id="header-signin" href="/api/auth/signin?callbackUrl=%2F">Sign in</a>{{end}}</div>
</div></header>
<main><h1>{{.Title}}</h1>
{{template "body" .Body}}</main></body></html>`

func page(body string) *template.Template {
	funcs := template.FuncMap{"ago": ago, "navLinks": func() any { return navLinks }}
	return template.Must(template.Must(template.New("layout").Funcs(funcs).Parse(layout)).New("body").Parse(body))
}

var homePage = page(`{{with .S}}
<section class="card">
<p>Signed in as <b id="user">{{$.Name}}</b> (<span id="email">{{.User.Email}}</span>) with <code>{{.Provider}}</code>.</p>
<dl><dt>Status</dt><dd id="status">{{.Status}}</dd>
<dt>Session</dt><dd><code>{{.ID}}</code>, created {{.CreatedAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</dd>
<dt>Session expires (idle)</dt><dd>{{.ExpireAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}, at the latest {{.AbandonAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</dd>
<dt>Access token</dt><dd>fingerprint <code id="access-fp">{{$.AccessFingerprint}}</code>, expires {{$.AccessTokenExpires}}</dd>
<dt>Last refreshed</dt><dd>{{$t := $.AccessTokenIssued}}{{if $t.IsZero}}—{{else}}<time id="access-issued" datetime="{{$t.Format "2006-01-02T15:04:05.999999999Z07:00"}}">{{$t.Format "2006-01-02T15:04:05Z07:00"}}</time> (<span id="access-issued-ago">{{ago $t}}</span> ago){{end}}</dd>
<dt>ID token expires</dt><dd>{{$.IDTokenExpires}}</dd>
{{if .Error}}<dt>Token error</dt><dd id="token-error" class="error">{{.Error}}</dd>{{end}}</dl>
<p class="muted">The access token's fingerprint and issue time change when the token is refreshed: a request
refreshes it once half its lifetime has passed (or it expires within a minute). Reload to see it.</p>
</section>
<section class="card"><h2>Organization</h2>
<p>Active organization: <b id="organization">{{or .ActiveOrganizationID "none (personal account)"}}</b></p>
<div id="organizations">{{range $.Organizations}}<form class="auth-post inline" method="post" action="/api/auth/organization">
<input type="hidden" name="organizationId" value="{{.}}"><button type="submit" id="org-{{.}}"{{if eq . $.S.ActiveOrganizationID}} disabled{{end}}>Switch to {{.}}</button></form>
{{end}}<form class="auth-post inline" method="post" action="/api/auth/organization">
<input type="hidden" name="organizationId" value=""><button type="submit" class="secondary" id="org-none"{{if not .ActiveOrganizationID}} disabled{{end}}>Personal account</button></form></div>
<p><a id="api-token" href="/api/auth/token?template=api">Token from the <code>api</code> template</a>
(<code>sub</code>, <code>email</code>, <code>org_id</code>, 5 minutes), verifiable with <a href="/api/auth/jwks.json">/api/auth/jwks.json</a>.</p>
</section>
<section class="card"><h2>Accounts</h2>
<ul id="accounts" class="plain">{{range .SignIns}}<li class="account"><b>{{.User.Email}}</b>{{with .User.Name}} ({{.}}){{end}} with <code>{{.Provider}}</code>
{{if eq .ID $.S.SignIn.ID}}<span class="active-account">(active)</span>{{else}}<form class="auth-post inline" method="post" action="/api/auth/switch">
<input type="hidden" name="signInId" value="{{.ID}}"><button type="submit" class="switch-account secondary">Switch to this account</button></form>{{end}}</li>
{{end}}</ul>
<p><a id="add-account" href="/api/auth/signin/oidc?addAccount=true&amp;prompt=select_account&amp;callbackUrl=%2F">Add another account</a> ·
<a id="signout" href="/api/auth/signout?callbackUrl=%2F">Sign out</a></p>
</section>
<script src="/static/home.js"></script>
{{else}}
<section class="card">
<p id="signed-out">You are not signed in. <a id="signin" class="button" href="/api/auth/signin?callbackUrl=%2F">Sign in</a></p>
<p class="muted">Or open the <a href="/protected">protected page</a>: you will be sent to sign in first.
Without a configured provider the demo runs its own development provider, whose login page offers two users.</p>
</section>
{{end}}`)

var protectedPage = page(`<section class="card"><p id="protected">Only signed-in users see this page, <b id="user">{{.Name}}</b>.</p>
<p class="muted">It is behind <code>Manager.Require</code>: signed out, a page request is sent to sign in (303), an API request gets 401.</p></section>`)

// clientPage polls GET /api/auth/session as next-auth's useSession() does
// (on load, every 5 s and when the tab becomes visible) and signs out as
// its signOut() does: fetch /csrf, POST /signout with json=true, follow
// the returned url.
var clientPage = page(`<section class="card"><p>Status: <b id="status">loading</b></p>
<p class="muted">This page polls <code>/api/auth/session</code> from the browser, as <code>useSession()</code> does.</p>
<pre id="session">…</pre>
<p><button id="client-signout" hidden>Sign out (client-side)</button></p></section>
<script src="/static/client.js"></script>`)

// render writes t inside the layout: title is the page's heading, data
// what its body reads; the header shows the request's signed-in user.
func render(w http.ResponseWriter, r *http.Request, t *template.Template, title string, data any) {
	ld := layoutData{Title: title, Path: r.URL.Path, Body: data}
	if s, ok := sessionkit.FromContext(r.Context()); ok {
		ld.User = &s.User
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", ld); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// homeScript makes the home page's forms POST to the Auth.js-style
// endpoints with the csrfToken of GET /api/auth/csrf, as next-auth's client
// does, then reload the page.
const homeScript = `for (const form of document.querySelectorAll("form.auth-post")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const {csrfToken} = await (await fetch("/api/auth/csrf")).json();
    const body = new URLSearchParams(new FormData(form));
    body.set("csrfToken", csrfToken);
    const res = await fetch(form.action, {method: "POST", body,
      headers: {"Content-Type": "application/x-www-form-urlencoded"}});
    if (!res.ok) { alert("The switch failed: " + res.status); return; }
    location.reload();
  });
}
`

// clientScript is the client page's poller and sign-out.
const clientScript = `const base = "/api/auth";
async function poll() {
  const res = await fetch(base + "/session", {headers: {"Content-Type": "application/json"}});
  const data = await res.json();
  const signedIn = res.ok && Object.keys(data).length > 0;
  document.getElementById("status").textContent = signedIn ? "authenticated" : "unauthenticated";
  document.getElementById("session").textContent = JSON.stringify(data, null, 2);
  document.getElementById("client-signout").hidden = !signedIn;
}
async function signOut() {
  const {csrfToken} = await (await fetch(base + "/csrf")).json();
  const res = await fetch(base + "/signout", {method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({csrfToken, callbackUrl: location.href, json: "true"})});
  const {url} = await res.json();
  await poll();
  if (url && url !== location.href) location.href = url;
}
document.getElementById("client-signout").addEventListener("click", signOut);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") poll(); });
poll();
setInterval(poll, 5000);
`

// pageCSP is the Content-Security-Policy of the demo's own pages: scripts
// and styles from this origin only (no inline script or style), no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// pageHeaders sets on every response of the demo's own routes the headers
// the library sets on its pages: no MIME sniffing, no framing (CSP
// frame-ancestors and, for older browsers, X-Frame-Options), and a CSP.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

//go:embed static/demo.css
var stylesheet string

// serveStatic serves one of the pages' static files: a script or the
// stylesheet.
func serveStatic(contentType, src string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, src)
	}
}

// serveScript serves a page script.
func serveScript(src string) http.HandlerFunc {
	return serveStatic("text/javascript; charset=utf-8", src)
}
