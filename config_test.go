package sessionkit

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewRejectsBadConfig(t *testing.T) {
	good := cookieKeyGen()
	bearer := func(mod func(*JWTConfig)) *JWTConfig {
		j := &JWTConfig{JWKSURLs: []string{"https://idp.example/jwks"}, Issuer: testIssuer, Audience: []string{testAudience}}
		mod(j)
		return j
	}
	prov := func(mod func(*Provider)) Provider {
		p := testProvider("https://idp.example/jwks")
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no keys no bearer", Config{}, "Keys"},
		{"short key", Config{Keys: [][]byte{randBytes(31)}}, "Keys[0]"},
		{"empty key", Config{Keys: [][]byte{{}}}, "Keys[0]"},
		{"second key short", Config{Keys: [][]byte{good, randBytes(16)}}, "Keys[1]"},
		{"zero key", Config{Keys: [][]byte{make([]byte, 32)}}, "Keys[0]"},
		{"zero second key", Config{Keys: [][]byte{good, make([]byte, 64)}}, "Keys[1]"},
		{"prefixed cookie name", Config{Keys: [][]byte{good}, CookieName: "__Host-s"}, "CookieName"},
		{"bad cookie name", Config{Keys: [][]byte{good}, CookieName: "a;b"}, "CookieName"},
		{"bad path", Config{Keys: [][]byte{good}, CookiePath: "app"}, "CookiePath"},
		{"non-ASCII path", Config{Keys: [][]byte{good}, CookiePath: "/äpp"}, "CookiePath"},
		{"path with a tab", Config{Keys: [][]byte{good}, CookiePath: "/a\tb"}, "CookiePath"},
		{"bad domain", Config{Keys: [][]byte{good}, CookieDomain: "a;b.example"}, "CookieDomain"},
		{"domain with port", Config{Keys: [][]byte{good}, CookieDomain: "example.com:443"}, "CookieDomain"},
		{"domain label too long", Config{Keys: [][]byte{good}, CookieDomain: strings.Repeat("x", 64) + ".example"}, "CookieDomain"},
		{"samesite none insecure", Config{Keys: [][]byte{good}, CookieSameSite: http.SameSiteNoneMode, InsecureCookies: true}, "CookieSameSite"},
		{"unknown samesite", Config{Keys: [][]byte{good}, CookieSameSite: 9}, "CookieSameSite"},
		{"small max size", Config{Keys: [][]byte{good}, MaxCookieSize: 100}, "MaxCookieSize"},
		{"negative lifetime", Config{Keys: [][]byte{good}, Lifetime: -time.Second}, "Lifetime"},
		{"negative idle", Config{Keys: [][]byte{good}, IdleTimeout: -time.Second}, "IdleTimeout"},
		{"idle past lifetime", Config{Keys: [][]byte{good}, Lifetime: time.Hour, IdleTimeout: 2 * time.Hour}, "IdleTimeout"},
		{"negative fetch timeout", Config{Keys: [][]byte{good}, FetchTimeout: -1}, "FetchTimeout"},
		{"bad base path", Config{Keys: [][]byte{good}, BasePath: "api"}, "BasePath"},
		{"bad sign-in url", Config{Keys: [][]byte{good}, SignInURL: "javascript:alert(1)"}, "SignInURL"},
		{"bearer without keys", Config{Bearer: &JWTConfig{Issuer: testIssuer, Audience: []string{testAudience}}}, "Bearer.JWKSURLs"},
		{"jwks not http", Config{Bearer: bearer(func(j *JWTConfig) { j.JWKSURLs = []string{"ftp://idp.example/jwks"} })}, "Bearer.JWKSURLs[0]"},
		{"jwks plain http remote", Config{Bearer: bearer(func(j *JWTConfig) { j.JWKSURLs = []string{"http://idp.example/jwks"} })}, "Bearer.JWKSURLs[0]"},
		{"jwks relative", Config{Bearer: bearer(func(j *JWTConfig) { j.JWKSURLs = []string{"/jwks"} })}, "Bearer.JWKSURLs[0]"},
		{"alg none", Config{Bearer: bearer(func(j *JWTConfig) { j.Algorithms = []string{"none"} })}, "Bearer.Algorithms[0]"},
		{"unknown alg", Config{Bearer: bearer(func(j *JWTConfig) { j.Algorithms = []string{"RS256", "XX999"} })}, "Bearer.Algorithms[1]"},
		{"hmac without secret", Config{Bearer: bearer(func(j *JWTConfig) { j.Algorithms = []string{"HS256"} })}, "Bearer.Algorithms[0]"},
		{"short hmac secret", Config{Bearer: bearer(func(j *JWTConfig) { j.StaticKeys = []StaticKey{{Key: []byte("short")}} })}, "Bearer.StaticKeys[0].Key"},
		{"unsupported static key", Config{Bearer: bearer(func(j *JWTConfig) { j.StaticKeys = []StaticKey{{Key: rsaKeyOnce()}} })}, "Bearer.StaticKeys[0].Key"},
		{"no issuer", Config{Bearer: bearer(func(j *JWTConfig) { j.Issuer = "" })}, "Bearer.Issuer"},
		{"no audience", Config{Bearer: bearer(func(j *JWTConfig) { j.Audience = nil })}, "Bearer.Audience"},
		{"empty audience", Config{Bearer: bearer(func(j *JWTConfig) { j.Audience = []string{""} })}, "Bearer.Audience[0]"},
		{"negative leeway", Config{Bearer: bearer(func(j *JWTConfig) { j.Leeway = -time.Second })}, "Bearer.Leeway"},
		{"huge leeway", Config{Bearer: bearer(func(j *JWTConfig) { j.Leeway = time.Hour })}, "Bearer.Leeway"},
		{"bad jwt cookie name", Config{Bearer: bearer(func(j *JWTConfig) { j.CookieName = "a b" })}, "Bearer.CookieName"},
		{"provider bad id", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.ID = "Bad ID" })}}, "Providers[0].ID"},
		{"provider id twice", Config{Keys: [][]byte{good}, Providers: []Provider{prov(nil), prov(nil)}}, "Providers[1].ID"},
		{"provider no client", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.ClientID = "" })}}, "Providers[0].ClientID"},
		{"provider no endpoints", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.Issuer, p.TokenURL = "", "" })}}, "Providers[0].Issuer"},
		{"provider http issuer", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.Issuer = "http://idp.example" })}}, "Providers[0].Issuer"},
		{"provider bad token URL", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.TokenURL = "/token" })}}, "Providers[0].TokenURL"},
		{"provider HMAC alg", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.IDTokenAlgorithms = []string{"HS256"} })}}, "Providers[0].IDTokenAlgorithms"},
		{"provider UserInfo", Config{Keys: [][]byte{good}, Providers: []Provider{prov(func(p *Provider) { p.UserInfo = "sometimes" })}}, "Providers[0].UserInfo"},
		{"two introspecting providers", Config{Keys: [][]byte{good}, Providers: []Provider{
			prov(func(p *Provider) { p.IntrospectionURL = "discovery" }),
			prov(func(p *Provider) { p.ID, p.IntrospectionURL = "other", "discovery" })}}, "Providers[1].IntrospectionURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if err == nil {
				_ = m.Close()
				t.Fatalf("New: got nil error, want one naming %s", tt.field)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New: got %T %v, want *ConfigError", err, err)
			}
			if ce.Field != tt.field {
				t.Errorf("ConfigError.Field: got %q, want %q (%v)", ce.Field, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), "sessionkit: Config."+tt.field) {
				t.Errorf("message: got %q, want it to start with the field", err)
			}
		})
	}
}

func TestNewAcceptsZeroDefaults(t *testing.T) {
	m := mustNew(t, Config{Keys: [][]byte{cookieKeyGen()}})
	s := m.cfg
	checks := []struct {
		name      string
		got, want any
	}{
		{"CookieName", s.CookieName, defaultCookieName},
		{"CookiePath", s.CookiePath, "/"},
		{"CookieSameSite", s.CookieSameSite, http.SameSiteLaxMode},
		{"Lifetime", s.Lifetime, defaultLifetime},
		{"BasePath", s.BasePath, defaultBasePath},
		{"SignInURL", s.SignInURL, defaultBasePath + "/signin"},
		{"FetchTimeout", s.FetchTimeout, defaultFetchTimeout},
		{"MaxCookieSize", s.MaxCookieSize, defaultMaxCookieSize},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNewBearerDefaults(t *testing.T) {
	m := mustNew(t, Config{Bearer: &JWTConfig{
		StaticKeys: []StaticKey{{Key: rsaSigner().Public()}},
		Issuer:     testIssuer, Audience: []string{testAudience},
	}})
	b := m.cfg.bearer
	if b.Leeway != defaultLeeway || b.jwksRefresh != defaultJWKSRefresh || b.jwksMinWait != defaultJWKSMinWait {
		t.Errorf("defaults: got leeway %v refresh %v min %v", b.Leeway, b.jwksRefresh, b.jwksMinWait)
	}
	for _, a := range b.Algorithms {
		if strings.HasPrefix(a, "HS") || a == "none" {
			t.Errorf("default algorithms include %s", a)
		}
	}
	if m.cookies != nil {
		t.Error("bearer-only manager has a cookie codec")
	}
}

// A passphrase of at least 32 bytes is a key: Managers given the same
// passphrase open each other's cookies, and one given another passphrase
// does not.
func TestKeysFromPassphrase(t *testing.T) {
	const passphrase = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-"
	clk := newClock()
	withKey := func(k string) *Manager {
		cfg := testConfig(clk, "")
		cfg.Keys = [][]byte{[]byte(k)}
		return mustNew(t, cfg)
	}
	cookies := signInCookies(t, withKey(passphrase), SignInParams{User: &User{ID: "user_pass"}})
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"same passphrase", passphrase, true},
		{"another passphrase", passphrase + "x", false},
		{"a prefix of it", passphrase[:32], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := withKey(tt.key)
			var c capture
			serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
			if c.ok != tt.want || (tt.want && c.session.User.ID != "user_pass") {
				t.Fatalf("session found %v (err %v), want %v", c.ok, c.srvErr, tt.want)
			}
		})
	}
}

func TestCookiePathRefused(t *testing.T) {
	if _, err := New(Config{Keys: [][]byte{cookieKeyGen()}, CookiePath: "/a;b"}); err == nil {
		t.Error("CookiePath with ';' accepted")
	}
}
