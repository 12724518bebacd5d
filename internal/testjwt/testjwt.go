// Package testjwt makes the signed JWTs and the JWK Set server that the
// tests of the root package and of internal/jwtverify verify: keys made
// once per test binary, a signer per algorithm, and an httptest server
// whose answers a test can slow down, break or replace.
package testjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer signs tokens with Key under the algorithm Alg and the key ID KID.
type Signer struct {
	KID, Alg string
	Key      any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte (HMAC)
}

// Public returns the key that verifies s's tokens.
func (s Signer) Public() any {
	switch k := s.Key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	default:
		return k
	}
}

// Mint signs claims with s, adding kid to the header unless it is empty,
// and the extra header fields given as name, value pairs.
func (s Signer) Mint(t testing.TB, claims jwt.MapClaims, header ...any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.Alg), claims)
	if s.KID != "" {
		tok.Header["kid"] = s.KID
	}
	for i := 0; i+1 < len(header); i += 2 {
		tok.Header[header[i].(string)] = header[i+1]
	}
	raw, err := tok.SignedString(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// JWK returns s's public key as a JWK.
func (s Signer) JWK() map[string]any {
	m := map[string]any{"kid": s.KID, "use": "sig"}
	switch k := s.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		x, y := k.X.FillBytes(make([]byte, 32)), k.Y.FillBytes(make([]byte, 32))
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(x), b64(y)
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(k)
	}
	return m
}

// JWKS is the JWK Set of signers.
func JWKS(signers ...Signer) []byte {
	keys := []map[string]any{}
	for _, s := range signers {
		keys = append(keys, s.JWK())
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	ecKey   = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// RSAKey returns an RSA-2048 key made once per test binary.
func RSAKey() *rsa.PrivateKey { return rsaKey() }

// RSAKey2 returns a second RSA-2048 key made once per test binary.
func RSAKey2() *rsa.PrivateKey { return rsaKey2() }

// ECKey returns a P-256 key made once per test binary.
func ECKey() *ecdsa.PrivateKey { return ecKey() }

// EdKey returns an Ed25519 key made once per test binary.
func EdKey() ed25519.PrivateKey { return edKey() }

// Server serves the JWK Set of its signers, counting requests (Hits).
// Delay holds each answer back (a time.Duration; a request whose context
// ends first gets none), Down answers 503, Status another status code,
// and SetBody replaces the document.
type Server struct {
	*httptest.Server
	Hits, Delay, Status atomic.Int64
	Down                atomic.Bool
	mu                  sync.Mutex
	signers             []Signer
	body                []byte
}

// NewServer starts a Server for signers, closed when t ends.
func NewServer(t testing.TB, signers ...Signer) *Server {
	j := &Server{signers: signers}
	j.Server = httptest.NewServer(http.HandlerFunc(j.serve))
	t.Cleanup(j.Close)
	return j
}

func (j *Server) serve(w http.ResponseWriter, r *http.Request) {
	j.Hits.Add(1)
	if d := time.Duration(j.Delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if j.Down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if code := j.Status.Load(); code != 0 {
		w.WriteHeader(int(code))
	}
	if j.body != nil {
		_, _ = w.Write(j.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(JWKS(j.signers...))
}

// SetSigners replaces the keys served.
func (j *Server) SetSigners(s ...Signer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.signers = s
}

// SetBody replaces the document served with b.
func (j *Server) SetBody(b []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.body = b
}
