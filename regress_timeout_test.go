package sessionkit

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// T1: a Provider.Refresh hook (or a custom HTTPClient transport) that does
// not honour ctx: RefreshTimeout is not enforced on the waiters, so the
// request hangs for as long as the hook does.
func TestRegressionRefreshTimeoutNotHonoured(t *testing.T) {
	unblock := make(chan struct{})
	defer close(unblock)
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, "https://idp.example/token", func(c *Config) {
		c.RefreshTimeout = 100 * time.Millisecond
		c.Providers[0].Refresh = func(ctx context.Context, _ *oauth2.Config, _ *oauth2.Token) (*oauth2.Token, error) {
			select {
			case <-unblock:
			case <-time.After(2 * time.Second):
			}
			return nil, context.DeadlineExceeded
		}
	}))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	start := time.Now()
	serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies))
	if d := time.Since(start); d > time.Second {
		t.Errorf("request waited %v with RefreshTimeout 100ms", d)
	}
}
