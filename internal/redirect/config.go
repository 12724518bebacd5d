package redirect

import (
	"net/url"
	"strings"

	"github.com/sessionkit/sessionkit/internal/fielderr"
)

// CheckConfig checks the configured URLs: basePath a path or empty,
// signInURL an http(s) URL or a path, appURL empty or the application's
// origin, and signOutRedirect a redirect Resolve accepts on that origin (on
// a placeholder origin without appURL). Its Field is the Config field's name.
func CheckConfig(basePath, signInURL, appURL, signOutRedirect string) *fielderr.Error {
	if !strings.HasPrefix(basePath, "/") && basePath != "" {
		return fielderr.New("BasePath", "%q must start with /", basePath)
	}
	if u, err := url.Parse(signInURL); err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return fielderr.New("SignInURL", "%q is not a valid http(s) URL or path", signInURL)
	}
	origin := NewOrigin("http", "sessionkit.invalid")
	if appURL != "" {
		o, err := ParseOrigin(appURL)
		if err != nil {
			return fielderr.Wrap("URL", "must be the application's http(s) origin, such as https://app.example", err)
		}
		origin = o
	}
	if _, err := Resolve(signOutRedirect, origin); err != nil {
		return fielderr.Wrap("SignOutRedirect", "must be a path on this site, or a URL on Config.URL's origin", err)
	}
	return nil
}
