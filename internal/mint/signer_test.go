package mint

import (
	"github.com/sessionkit/sessionkit/internal/fielderr"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	keysOnce sync.Once
	edKey    ed25519.PrivateKey
	ecKey    *ecdsa.PrivateKey
	rsaKey   *rsa.PrivateKey
)

// testKeys generates one key of each supported kind, once per run.
func testKeys(t testing.TB) (ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return edKey, ecKey, rsaKey
}

// opaqueSigner is a crypto.Signer of no supported kind.
type opaqueSigner struct{ crypto.Signer }

func TestNewSignerRefuses(t *testing.T) {
	ed, ec, _ := testKeys(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		keys      []Key
		wantField string
	}{
		{"no key", nil, "Keys"},
		{"no ID", []Key{{Signer: ed}}, "Keys[0].ID"},
		{"duplicate ID", []Key{{ID: "a", Signer: ed}, {ID: "a", Signer: ec}}, "Keys[1].ID"},
		{"short ed25519 key", []Key{{ID: "a", Signer: ed[:32]}}, "Keys[0].Key"},
		{"P-384", []Key{{ID: "a", Signer: ed}, {ID: "b", Signer: p384}}, "Keys[1].Key"},
		{"RSA 1024", []Key{{ID: "a", Signer: small}}, "Keys[0].Key"},
		{"unsupported kind", []Key{{ID: "a", Signer: opaqueSigner{ed}}}, "Keys[0].Key"},
		{"no key at all", []Key{{ID: "a"}}, "Keys[0].Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSigner(tt.keys)
			var ke *fielderr.Error
			if !errors.As(err, &ke) {
				t.Fatalf("got %v, %v; want a *fielderr.Error", s, err)
			}
			if ke.Field != tt.wantField {
				t.Errorf("got field %q (%v), want %q", ke.Field, err, tt.wantField)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// wantJWK is the public JWK of key, built from the standard library alone.
func wantJWK(t *testing.T, id string, key crypto.Signer) map[string]string {
	t.Helper()
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return map[string]string{"kid": id, "use": "sig", "alg": "EdDSA", "kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
	case *ecdsa.PrivateKey:
		pub, err := k.PublicKey.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		raw := pub.Bytes() // 0x04 || X || Y
		return map[string]string{"kid": id, "use": "sig", "alg": "ES256", "kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case *rsa.PrivateKey:
		return map[string]string{"kid": id, "use": "sig", "alg": "RS256", "kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	}
	t.Fatalf("no JWK for %T", key)
	return nil
}

func TestJWKSPublishesPublicHalves(t *testing.T) {
	ed, ec, rs := testKeys(t)
	keys := []Key{{ID: "ed-1", Signer: ed}, {ID: "ec-1", Signer: ec}, {ID: "rsa-1", Signer: rs}}
	s, err := NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatalf("the JWK Set does not decode: %v", err)
	}
	if len(set.Keys) != len(keys) {
		t.Fatalf("got %d keys, want %d", len(set.Keys), len(keys))
	}
	for i, k := range keys {
		if want := wantJWK(t, k.ID, k.Signer.(crypto.Signer)); !reflect.DeepEqual(set.Keys[i], want) {
			t.Errorf("key %d: got %v, want %v (and no private member)", i, set.Keys[i], want)
		}
	}
}

func TestMintVerifiesWithTheJWKS(t *testing.T) {
	ed, ec, rs := testKeys(t)
	tests := []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"EdDSA", ed, "EdDSA"},
		{"ES256", ec, "ES256"},
		{"RS256", rs, "RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first key signs; an older key is still published.
			_, older, _ := ed25519.GenerateKey(rand.Reader)
			s, err := NewSigner([]Key{{ID: "new", Signer: tt.key}, {ID: "old", Signer: older}})
			if err != nil {
				t.Fatal(err)
			}
			raw, exp, err := s.Mint(map[string]any{"org": "o1", "sub": "overwritten"}, Registered{Issuer: "https://issuer.example",
				Subject: "u1", Audience: []string{"api"}, IssuedAt: t0.Add(400 * time.Millisecond), Lifetime: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(t0.Add(time.Minute)) {
				t.Errorf("exp: got %v, want %v", exp, t0.Add(time.Minute))
			}
			kf, err := keyfunc.NewJWKSetJSON(s.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(raw, claims, kf.Keyfunc, jwt.WithValidMethods([]string{tt.alg}),
				jwt.WithTimeFunc(func() time.Time { return t0 }), jwt.WithIssuer("https://issuer.example"), jwt.WithAudience("api"))
			if err != nil || !tok.Valid {
				t.Fatalf("verification: %v", err)
			}
			if tok.Header["kid"] != "new" {
				t.Errorf("kid: got %v, want new", tok.Header["kid"])
			}
			want := map[string]any{"sub": "u1", "org": "o1", "iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(exp.Unix())}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("%s: got %v, want %v", k, claims[k], v)
				}
			}
			if jti, _ := claims["jti"].(string); len(jti) < 16 {
				t.Errorf("jti: got %q, want a random identifier", jti)
			}
		})
	}
}

func TestMintOmitsEmptyAudience(t *testing.T) {
	ed, _, _ := testKeys(t)
	s, err := NewSigner([]Key{{ID: "k", Signer: ed}})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	if _, _, err := s.Mint(claims, Registered{Subject: "u", IssuedAt: t0, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, ok := claims["aud"]; ok {
		t.Errorf("aud: got %v, want no claim", claims["aud"])
	}
	other := map[string]any{}
	if _, _, err := s.Mint(other, Registered{Subject: "u", IssuedAt: t0, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if claims["jti"] == other["jti"] {
		t.Error("two tokens share a jti")
	}
}
