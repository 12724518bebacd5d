package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// H3: a long callbackUrl (within the 2048-byte limit) makes GET
// /signin/{id} answer 500: the sealed flow cookie outgrows securecookie's
// 4096-byte MaxLength.
func TestRegressionLongCallbackURL500(t *testing.T) {
	_, h := handlerManager(t, nil)
	for _, cb := range []string{"/" + strings.Repeat("a", 2000), "/?" + strings.Repeat("&", 1000)} {
		rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc?callbackUrl="+url.QueryEscape(cb), nil))
		if rec.Code >= 500 {
			t.Errorf("callbackUrl of %d bytes: got %d %s", len(cb), rec.Code, rec.Body.String()[:80])
		}
	}
}
