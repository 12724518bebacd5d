package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRegressionLongCallbackFlowCookie(t *testing.T) {
	_, h := handlerManager(t, nil)
	for _, cb := range []string{"/" + strings.Repeat("a", 1500), "/?" + strings.Repeat("&", 400)} {
		rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc?callbackUrl="+url.QueryEscape(cb), nil))
		for _, c := range rec.Result().Cookies() {
			t.Logf("callbackUrl %d bytes -> %d %s value %d bytes (openFlow limit 4096, browser limit 4096 name+value)", len(cb), rec.Code, c.Name, len(c.Value))
		}
	}
}
