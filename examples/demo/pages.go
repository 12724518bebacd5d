package main

import (
	"bytes"
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

const layout = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sessionkit demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
dt{font-weight:600}code,pre{background:#f3f3f3;padding:0 .2rem}nav a{margin-right:1rem}</style></head><body>
<h1><a href="/">sessionkit demo</a></h1>
<nav><a href="/">Home</a><a href="/protected">Protected page</a><a href="/api/me">/api/me</a><a href="/client">Client page</a><a href="/sessions">Sessions</a><a href="/api/auth/session">/api/auth/session</a></nav>
{{template "body" .}}</body></html>`

func page(body string) *template.Template {
	return template.Must(template.Must(template.New("layout").Funcs(template.FuncMap{"ago": ago}).Parse(layout)).New("body").Parse(body))
}

var homePage = page(`{{with .S}}
<p>Signed in as <b id="user">{{$.Name}}</b> (<span id="email">{{.User.Email}}</span>) with <code>{{.Provider}}</code>.</p>
<dl><dt>Status</dt><dd id="status">{{.Status}}</dd>
<dt>Session</dt><dd><code>{{.ID}}</code>, created {{.CreatedAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</dd>
<dt>Session expires (idle)</dt><dd>{{.ExpireAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}, at the latest {{.AbandonAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</dd>
<dt>Access token</dt><dd>fingerprint <code id="access-fp">{{$.AccessFingerprint}}</code>, expires {{$.AccessTokenExpires}}</dd>
<dt>Access token issued (last refreshed) at</dt><dd>{{$t := $.AccessTokenIssued}}{{if $t.IsZero}}—{{else}}<time id="access-issued" datetime="{{$t.Format "2006-01-02T15:04:05.999999999Z07:00"}}">{{$t.Format "2006-01-02T15:04:05Z07:00"}}</time> (<span id="access-issued-ago">{{ago $t}}</span> ago){{end}}</dd>
<dt>ID token expires</dt><dd>{{$.IDTokenExpires}}</dd>
{{if .Error}}<dt>Token error</dt><dd id="token-error">{{.Error}}</dd>{{end}}</dl>
<p>The access token fingerprint and its issue time change when the token is refreshed: a request
refreshes it once half its lifetime has passed (or it expires within a minute). Reload to see it.</p>
<h2>Organization</h2>
<p>Active organization: <b id="organization">{{or .ActiveOrganizationID "none (personal account)"}}</b></p>
<div id="organizations">{{range $.Organizations}}<form class="auth-post" method="post" action="/api/auth/organization" style="display:inline">
<input type="hidden" name="organizationId" value="{{.}}"><button type="submit" id="org-{{.}}"{{if eq . $.S.ActiveOrganizationID}} disabled{{end}}>Switch to {{.}}</button></form>
{{end}}<form class="auth-post" method="post" action="/api/auth/organization" style="display:inline">
<input type="hidden" name="organizationId" value=""><button type="submit" id="org-none"{{if not .ActiveOrganizationID}} disabled{{end}}>Personal account</button></form></div>
<p><a id="api-token" href="/api/auth/token?template=api">Token from the <code>api</code> template</a>
(<code>sub</code>, <code>email</code>, <code>org_id</code>, 5 minutes), verifiable with <a href="/api/auth/jwks.json">/api/auth/jwks.json</a>.</p>
<h2>Accounts</h2>
<ul id="accounts">{{range .SignIns}}<li class="account"><b>{{.User.Email}}</b>{{with .User.Name}} ({{.}}){{end}} with <code>{{.Provider}}</code>
{{if eq .ID $.S.SignIn.ID}}<span class="active-account">(active)</span>{{else}}<form class="auth-post" method="post" action="/api/auth/switch" style="display:inline">
<input type="hidden" name="signInId" value="{{.ID}}"><button type="submit" class="switch-account">Switch to this account</button></form>{{end}}</li>
{{end}}</ul>
<p><a id="add-account" href="/api/auth/signin/oidc?addAccount=true&amp;callbackUrl=%2F">Add another account</a></p>
<p><a id="signout" href="/api/auth/signout?callbackUrl=%2F">Sign out</a></p>
<script src="/static/home.js"></script>
{{else}}
<p id="signed-out">You are not signed in. <a id="signin" href="/api/auth/signin?callbackUrl=%2F">Sign in</a> or open the
<a href="/protected">protected page</a> (you will be sent to sign in first).</p>
{{end}}`)

var protectedPage = page(`<p id="protected">Only signed-in users see this page, <b id="user">{{.Name}}</b>.</p>`)

// clientPage polls GET /api/auth/session as next-auth's useSession() does
// (on load, every 5 s and when the tab becomes visible) and signs out as
// its signOut() does: fetch /csrf, POST /signout with json=true, follow
// the returned url.
var clientPage = page(`<p>Status: <b id="status">loading</b></p>
<pre id="session">…</pre>
<p><button id="client-signout" hidden>Sign out (client-side)</button></p>
<script src="/static/client.js"></script>`)

func render(w http.ResponseWriter, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
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
// from this origin only (no inline script), inline styles, no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

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

// serveScript serves a page script.
func serveScript(src string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, src)
	}
}
