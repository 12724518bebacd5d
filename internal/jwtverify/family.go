package jwtverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
)

// Algorithm families: the JWK "kty" of the keys that verify an algorithm.
const (
	FamilyRSA = "RSA"
	FamilyEC  = "EC"
	FamilyOKP = "OKP"
	FamilyOct = "oct"
)

// AlgFamily is the family of the keys that verify alg, or "" for an
// algorithm this package does not support.
func AlgFamily(alg string) string {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return FamilyRSA
	case "ES256", "ES384", "ES512":
		return FamilyEC
	case "EdDSA":
		return FamilyOKP
	case "HS256", "HS384", "HS512":
		return FamilyOct
	}
	return ""
}

// KeyFamily is the family of the algorithms key verifies, or "" for an
// unsupported key type.
func KeyFamily(key any) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return FamilyRSA
	case *ecdsa.PublicKey:
		return FamilyEC
	case ed25519.PublicKey:
		return FamilyOKP
	case []byte:
		return FamilyOct
	}
	return ""
}
