package jwtverify

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"
)

func TestConfigCheck(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := func(mod func(*Config)) Config {
		c := Config{JWKSURLs: []string{"https://idp.example/jwks"}, Algorithms: []string{"RS256"},
			Issuer: testIssuer, Audience: []string{testAudience}, Leeway: 5 * time.Second}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"valid", valid(nil), ""},
		{"no key source", valid(func(c *Config) { c.JWKSURLs = nil }), "JWKSURLs"},
		{"plain http remote", valid(func(c *Config) { c.JWKSURLs = []string{"http://idp.example/jwks"} }), "JWKSURLs[0]"},
		{"private key", valid(func(c *Config) { c.StaticKeys = []Key{{Key: priv}} }), "StaticKeys[0].Key"},
		{"short secret", valid(func(c *Config) { c.StaticKeys = []Key{{Key: []byte("short")}} }), "StaticKeys[0].Key"},
		{"none", valid(func(c *Config) { c.Algorithms = []string{"RS256", "NONE"} }), "Algorithms[1]"},
		{"unknown", valid(func(c *Config) { c.Algorithms = []string{"XX1"} }), "Algorithms[0]"},
		{"HMAC without secret", valid(func(c *Config) { c.Algorithms = []string{"HS256"} }), "Algorithms[0]"},
		{"HMAC with secret", valid(func(c *Config) {
			c.Algorithms, c.StaticKeys = []string{"HS256"}, []Key{{Key: make([]byte, 32)}}
		}), ""},
		{"no issuer", valid(func(c *Config) { c.Issuer = "" }), "Issuer"},
		{"issuer skipped", valid(func(c *Config) { c.Issuer, c.SkipIssuerCheck = "", true }), ""},
		{"no audience", valid(func(c *Config) { c.Audience = nil }), "Audience"},
		{"empty audience", valid(func(c *Config) { c.Audience = []string{"a", ""} }), "Audience[1]"},
		{"negative leeway", valid(func(c *Config) { c.Leeway = -1 }), "Leeway"},
		{"huge leeway", valid(func(c *Config) { c.Leeway = MaxLeeway + 1 }), "Leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := tt.cfg.Check()
			got := ""
			if fe != nil {
				got = fe.Field
			}
			if got != tt.field {
				t.Errorf("Check: got field %q (%v), want %q", got, fe, tt.field)
			}
		})
	}
}
