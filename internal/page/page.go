// Package page renders the HTML pages of the session endpoints (sign-in,
// sign-out, error) and tells a request made by code, which gets JSON, from
// a page navigation, which gets a page.
package page

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/sessionkit/sessionkit/internal/authjs"
)

// Error is the data of the error page.
type Error struct {
	Status     int
	StatusText string
	Code       string // Auth.js-style error name, for clients (data-code)
	Message    string
	SignIn     string // the sign-in page's URL
}

// SignIn is the data of the sign-in page: a form per provider.
type SignIn struct {
	Providers []authjs.Provider
	CSRFToken string
	Callback  string
	Error     string // shown above the forms when not empty
}

// SignOut is the data of the page that confirms sign-out.
type SignOut struct {
	Action, CSRFToken, Callback string
}

// HTML renders the error page.
func (d Error) HTML() ([]byte, error) { return render(errorTmpl, d) }

// HTML renders the sign-in page.
func (d SignIn) HTML() ([]byte, error) { return render(signInTmpl, d) }

// HTML renders the sign-out page.
func (d SignOut) HTML() ([]byte, error) { return render(signOutTmpl, d) }

func render(t *template.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	err := t.Execute(&buf, data)
	return buf.Bytes(), err
}

const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`

const style = `<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{display:block;width:100%;margin:.5rem 0;padding:.6rem 1rem;font-size:1rem;cursor:pointer}.error{color:#a00}</style>`

var errorTmpl = template.Must(template.New("error").Parse(head + `<title>{{.StatusText}}</title>` + style + `</head><body>
<h1>{{.StatusText}}</h1>
<p class="error" id="error" data-code="{{.Code}}">{{.Message}}</p>
<p><a href="{{.SignIn}}">Sign in again</a></p>
</body></html>`))

var signInTmpl = template.Must(template.New("signin").Parse(head + `<title>Sign in</title>` + style + `</head><body>
<h1>Sign in</h1>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
{{range .Providers}}<form method="post" action="{{.SignInURL}}">
<input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{$.Callback}}">
<button type="submit" id="signin-{{.ID}}">Sign in with {{.Name}}</button>
</form>
{{else}}<p>No identity provider is configured.</p>{{end}}
</body></html>`))

var signOutTmpl = template.Must(template.New("signout").Parse(head + `<title>Sign out</title>` + style + `</head><body>
<h1>Sign out</h1><p>Are you sure you want to sign out?</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrfToken" value="{{.CSRFToken}}">
<input type="hidden" name="callbackUrl" value="{{.Callback}}">
<button type="submit" id="signout">Sign out</button>
</form></body></html>`))

// SanitizeCode keeps an error code from a provider or a query printable
// and short: at most 64 of [A-Za-z0-9_.-], and "error" when none is left.
func SanitizeCode(s string) string {
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

// IsAPI reports whether r was made by code rather than by a page
// navigation: it has an Authorization header, a fetch's Sec-Fetch-Mode,
// X-Requested-With XMLHttpRequest, a method other than GET and HEAD, or an
// Accept header that does not name text/html (curl's "*/*", a JSON
// client's "application/json"). Browsers name text/html when they
// navigate; a request without an Accept header counts as a navigation.
func IsAPI(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "cors", "no-cors", "same-origin", "websocket":
		return true
	case "navigate":
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		return true
	}
	accept := r.Header.Get("Accept")
	return accept != "" && !strings.Contains(accept, "text/html")
}

// IsCrossSite reports whether the browser says r comes from another site
// (Sec-Fetch-Site: cross-site). Requests without the header (older
// browsers, non-browser clients) count as same-site.
func IsCrossSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site"
}
