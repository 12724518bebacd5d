package jwtverify

import (
	"github.com/sessionkit/sessionkit/internal/fielderr"

	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/safeurl"
)

// MaxLeeway is the largest clock skew Check accepts.
const MaxLeeway = 5 * time.Minute

// minHMACSecret is the shortest HMAC static key Check accepts.
const minHMACSecret = 32

// Check validates what a caller configures of c: the key sources, the
// static keys, the algorithm allow-list, the issuer and audience checks
// and the leeway. It returns the first fault, or nil.
func (c *Config) Check() *fielderr.Error {
	for _, check := range [...]func() *fielderr.Error{c.checkKeySources, c.checkStaticKeys, c.checkAlgorithms, c.checkClaims} {
		if err := check(); err != nil {
			return err
		}
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		return fielderr.New("Leeway", "must be between 0 and %s", MaxLeeway)
	}
	return nil
}

func (c *Config) checkKeySources() *fielderr.Error {
	if len(c.JWKSURLs) == 0 && len(c.StaticKeys) == 0 {
		return fielderr.New("JWKSURLs", "at least one JWKS URL or static key is required")
	}
	for i, raw := range c.JWKSURLs {
		if err := safeurl.Check(raw); err != nil {
			return fielderr.Wrap(fmt.Sprintf("JWKSURLs[%d]", i), "invalid JWKS URL", err)
		}
	}
	return nil
}

func (c *Config) checkStaticKeys() *fielderr.Error {
	for i, k := range c.StaticKeys {
		switch KeyFamily(k.Key) {
		case "":
			return fielderr.New(fmt.Sprintf("StaticKeys[%d].Key", i), "unsupported key type %T", k.Key)
		case FamilyOct:
			if len(k.Key.([]byte)) < minHMACSecret {
				return fielderr.New(fmt.Sprintf("StaticKeys[%d].Key", i), "an HMAC secret must be at least %d bytes", minHMACSecret)
			}
		}
	}
	return nil
}

// checkAlgorithms refuses "none", unknown algorithms, and HMAC algorithms
// without an HMAC static key, so that a public key is never used as an
// HMAC secret.
func (c *Config) checkAlgorithms() *fielderr.Error {
	hasHMACKey := slices.ContainsFunc(c.StaticKeys, func(k Key) bool { return KeyFamily(k.Key) == FamilyOct })
	for i, alg := range c.Algorithms {
		f := AlgFamily(alg)
		switch {
		case strings.EqualFold(alg, "none"):
			return fielderr.New(fmt.Sprintf("Algorithms[%d]", i), `"none" is never allowed`)
		case f == "":
			return fielderr.New(fmt.Sprintf("Algorithms[%d]", i), "unknown algorithm %q", alg)
		case f == FamilyOct && !hasHMACKey:
			return fielderr.New(fmt.Sprintf("Algorithms[%d]", i), "%s needs a []byte StaticKey", alg)
		}
	}
	return nil
}

func (c *Config) checkClaims() *fielderr.Error {
	if c.Issuer == "" && !c.SkipIssuerCheck {
		return fielderr.New("Issuer", "is required (or set SkipIssuerCheck, which MUST NOT be used with shared keys)")
	}
	if len(c.Audience) == 0 && !c.SkipAudienceCheck {
		return fielderr.New("Audience", "is required (or set SkipAudienceCheck)")
	}
	for i, a := range c.Audience {
		if a == "" {
			return fielderr.New(fmt.Sprintf("Audience[%d]", i), "must not be empty")
		}
	}
	return nil
}
