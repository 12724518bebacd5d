package main

import (
	"context"
	"html/template"
)

type contextT = context.Context

const layout = `<!doctype html><html><head><meta charset="utf-8"><title>sessionkit demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;line-height:1.5}
dt{font-weight:600}code{background:#f3f3f3;padding:0 .2rem}</style></head><body>
<h1><a href="/">sessionkit demo</a></h1>{{template "body" .}}</body></html>`

func page(body string) *template.Template {
	return template.Must(template.Must(template.New("layout").Parse(layout)).New("body").Parse(body))
}

var homePage = page(`{{if .}}
<p>Signed in as <b id="user">{{.User.Name}}</b> (<span id="email">{{.User.Email}}</span>).</p>
<dl><dt>Status</dt><dd id="status">{{.Status}}</dd>
<dt>Session</dt><dd><code>{{.ID}}</code></dd>
<dt>Created</dt><dd>{{.CreatedAt}}</dd>
<dt>Last active</dt><dd>{{.LastActiveAt}}</dd>
<dt>Expires (idle)</dt><dd>{{.ExpireAt}}</dd>
<dt>Abandoned at (absolute)</dt><dd>{{.AbandonAt}}</dd></dl>
<p><a href="/protected">Protected page</a> · <a href="/api/me">/api/me</a></p>
<form method="post" action="/signout"><button id="signout">Sign out</button></form>
{{else}}
<p>You are not signed in. <a id="signin" href="/signin">Sign in</a> or try the
<a href="/protected">protected page</a> (you will be sent to sign in first).</p>
{{end}}`)

var signInPage = page(`<p>Pick a demo user (development only: this form is trusted).</p>
<form method="post" action="/signin">
<input type="hidden" name="callbackUrl" value="{{.}}">
<button name="user" value="ada">Ada Lovelace</button>
<button name="user" value="grace">Grace Hopper</button>
</form>`)

var protectedPage = page(`<p>Only signed-in users see this page, {{.User.Name}}.</p>`)
