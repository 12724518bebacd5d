//go:build !precache

package nonrefresh

import (
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
)

// configure turns the verified-credential cache off, so that every request
// decrypts and decodes its cookie as before the cache, and configures the
// session's provider, so that every request runs the refresh check (the
// session is not due, so no refresh happens).
func configure(cfg *sessionkit.Config) {
	cfg.CacheBytes = -1
	cfg.Providers = []sessionkit.Provider{{ID: "oidc", ClientID: "bench",
		AuthURL: "https://issuer.example/authorize", TokenURL: "https://issuer.example/token", AuthStyle: oauth2.AuthStyleInHeader}}
}
