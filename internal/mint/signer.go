package mint

import (
	"github.com/sessionkit/sessionkit/internal/fielderr"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Key is one signing key.
type Key struct {
	// ID is the key's "kid": set and unique among a Signer's keys.
	ID string
	// Signer is an ed25519.PrivateKey (EdDSA), an *ecdsa.PrivateKey on
	// P-256 (ES256) or an *rsa.PrivateKey of at least 2048 bits (RS256);
	// NewSigner refuses any other value.
	Signer any
}

// signingKey is a validated Key.
type signingKey struct {
	id     string
	method jwt.SigningMethod
	signer crypto.Signer
}

// Signer signs tokens with the first of its keys and publishes every key
// in its JWK Set, so that a key is rotated by putting the new one first and
// keeping the old one until the tokens it signed have expired. It is safe
// for concurrent use.
type Signer struct {
	keys []signingKey
	jwks []byte // the JWK Set, encoded once
}

// NewSigner validates keys (at least one) and returns their Signer. An
// unusable key is reported as a *fielderr.Error naming it by its index
// ("Keys[1].Key").
func NewSigner(keys []Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, fielderr.New("Keys", "at least one signing key is required")
	}
	s := &Signer{}
	seen := map[string]bool{}
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for i, k := range keys {
		if k.ID == "" || seen[k.ID] {
			return nil, fielderr.New(fmt.Sprintf("Keys[%d].ID", i), "must be set and unique")
		}
		seen[k.ID] = true
		sk, jwk, err := validate(k)
		if err != nil {
			err.Field = fmt.Sprintf("Keys[%d].%s", i, err.Field)
			return nil, err
		}
		s.keys = append(s.keys, sk)
		set.Keys = append(set.Keys, jwk)
	}
	var err error
	if s.jwks, err = json.Marshal(set); err != nil {
		return nil, fielderr.Wrap("Keys", "the JWK Set does not encode", err)
	}
	return s, nil
}

// validate checks k's key and returns it with its algorithm and the JWK of
// its public half.
func validate(k Key) (signingKey, jwkset.JWKMarshal, *fielderr.Error) {
	sk := signingKey{id: k.ID}
	var bad string
	switch key := k.Signer.(type) {
	case ed25519.PrivateKey:
		sk.signer, sk.method, bad = key, jwt.SigningMethodEdDSA, cond(len(key) != ed25519.PrivateKeySize, "malformed ed25519 key")
	case *ecdsa.PrivateKey:
		sk.signer, sk.method, bad = key, jwt.SigningMethodES256, cond(key.Curve != elliptic.P256(), "ECDSA keys must be on P-256 (ES256)")
		if bad == "" {
			if _, err := key.PublicKey.ECDH(); err != nil {
				return sk, jwkset.JWKMarshal{}, fielderr.Wrap("Key", "invalid ECDSA key", err)
			}
		}
	case *rsa.PrivateKey:
		sk.signer, sk.method, bad = key, jwt.SigningMethodRS256, cond(key.N.BitLen() < 2048, "RSA keys must have at least 2048 bits")
	default:
		bad = fmt.Sprintf("must be an ed25519.PrivateKey, a P-256 *ecdsa.PrivateKey or an *rsa.PrivateKey, got %T", k.Signer)
	}
	if bad != "" {
		return sk, jwkset.JWKMarshal{}, fielderr.New("Key", "%s", bad)
	}
	jwk, err := jwkset.NewJWKFromKey(sk.signer.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		ALG: jwkset.ALG(sk.method.Alg()), KID: k.ID, USE: jwkset.UseSig}})
	if err != nil {
		return sk, jwkset.JWKMarshal{}, fielderr.Wrap("Key", "cannot be published as a JWK", err)
	}
	return sk, jwk.Marshal(), nil
}

// cond returns reason when bad holds, or "".
func cond(bad bool, reason string) string {
	if bad {
		return reason
	}
	return ""
}

// JWKS returns the JWK Set of the public halves of the Signer's keys, in
// their order. The slice is shared: callers must not modify it.
func (s *Signer) JWKS() []byte { return s.jwks }

// Registered are the registered claims (RFC 7519 section 4.1) that Mint
// sets on a token.
type Registered struct {
	// Issuer is "iss".
	Issuer string
	// Subject is "sub".
	Subject string
	// Audience is "aud", left out when empty.
	Audience []string
	// IssuedAt is "iat" and "nbf", truncated to the second.
	IssuedAt time.Time
	// Lifetime sets "exp" after IssuedAt.
	Lifetime time.Duration
}

// Mint sets r's claims and a random "jti" in claims, over any claims of
// the same names, and signs it with the first key, naming it in the "kid"
// header. It returns the token and its expiry.
func (s *Signer) Mint(claims map[string]any, r Registered) (string, time.Time, error) {
	iat := r.IssuedAt.Truncate(time.Second)
	exp := iat.Add(r.Lifetime)
	claims["iss"] = r.Issuer
	claims["sub"] = r.Subject
	if len(r.Audience) > 0 {
		claims["aud"] = r.Audience
	}
	claims["iat"] = iat.Unix()
	claims["nbf"] = iat.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = rand.Text()
	k := s.keys[0]
	tok := jwt.NewWithClaims(k.method, jwt.MapClaims(claims))
	tok.Header["kid"] = k.id
	raw, err := tok.SignedString(k.signer)
	if err != nil {
		return "", time.Time{}, err
	}
	return raw, exp, nil
}
