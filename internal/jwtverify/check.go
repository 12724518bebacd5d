package jwtverify

import (
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

// FieldError reports a Config field that Check refuses.
type FieldError struct {
	// Field is the field's path in Config, such as "Algorithms[1]".
	Field string
	// Reason says what is wrong, for a person.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error names the field and the reason.
func (e *FieldError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return e.Field + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Check validates what a caller configures of c: the key sources, the
// static keys, the algorithm allow-list, the issuer and audience checks
// and the leeway. It returns the first fault, or nil.
func (c *Config) Check() *FieldError {
	for _, check := range [...]func() *FieldError{c.checkKeySources, c.checkStaticKeys, c.checkAlgorithms, c.checkClaims} {
		if err := check(); err != nil {
			return err
		}
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		return fieldErr("Leeway", "must be between 0 and %s", MaxLeeway)
	}
	return nil
}

func (c *Config) checkKeySources() *FieldError {
	if len(c.JWKSURLs) == 0 && len(c.StaticKeys) == 0 {
		return fieldErr("JWKSURLs", "at least one JWKS URL or static key is required")
	}
	for i, raw := range c.JWKSURLs {
		if err := safeurl.Check(raw); err != nil {
			return &FieldError{Field: fmt.Sprintf("JWKSURLs[%d]", i), Reason: "invalid JWKS URL", Err: err}
		}
	}
	return nil
}

func (c *Config) checkStaticKeys() *FieldError {
	for i, k := range c.StaticKeys {
		switch KeyFamily(k.Key) {
		case "":
			return fieldErr(fmt.Sprintf("StaticKeys[%d].Key", i), "unsupported key type %T", k.Key)
		case FamilyOct:
			if len(k.Key.([]byte)) < minHMACSecret {
				return fieldErr(fmt.Sprintf("StaticKeys[%d].Key", i), "an HMAC secret must be at least %d bytes", minHMACSecret)
			}
		}
	}
	return nil
}

// checkAlgorithms refuses "none", unknown algorithms, and HMAC algorithms
// without an HMAC static key, so that a public key is never used as an
// HMAC secret.
func (c *Config) checkAlgorithms() *FieldError {
	hasHMACKey := slices.ContainsFunc(c.StaticKeys, func(k Key) bool { return KeyFamily(k.Key) == FamilyOct })
	for i, alg := range c.Algorithms {
		f := AlgFamily(alg)
		switch {
		case strings.EqualFold(alg, "none"):
			return fieldErr(fmt.Sprintf("Algorithms[%d]", i), `"none" is never allowed`)
		case f == "":
			return fieldErr(fmt.Sprintf("Algorithms[%d]", i), "unknown algorithm %q", alg)
		case f == FamilyOct && !hasHMACKey:
			return fieldErr(fmt.Sprintf("Algorithms[%d]", i), "%s needs a []byte StaticKey", alg)
		}
	}
	return nil
}

func (c *Config) checkClaims() *FieldError {
	if c.Issuer == "" && !c.SkipIssuerCheck {
		return fieldErr("Issuer", "is required (or set SkipIssuerCheck, which MUST NOT be used with shared keys)")
	}
	if len(c.Audience) == 0 && !c.SkipAudienceCheck {
		return fieldErr("Audience", "is required (or set SkipAudienceCheck)")
	}
	for i, a := range c.Audience {
		if a == "" {
			return fieldErr(fmt.Sprintf("Audience[%d]", i), "must not be empty")
		}
	}
	return nil
}
