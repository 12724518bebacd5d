package jwtverify

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// CheckAccessToken decides whether a verified token may stand for an
// access token; typ is its "typ" header. With requireType only an RFC 9068
// "typ" does. Otherwise a token that says it is an access token passes
// (the "typ" header, or the "typ"/"token_use" claims some providers set);
// one with an ID token's marks ("nonce", "at_hash", "c_hash", a "typ"
// claim of "ID", "token_use" "id") is refused; and one whose "aud" or
// "azp" names one of clientIDs is refused unless it carries a claim only
// access tokens carry ("client_id", "scope", "scp"), since that is exactly
// what an ID token issued to such a client looks like. The error is
// ErrNotATJWT or ErrIDToken.
func CheckAccessToken(requireType bool, typ string, c jwt.MapClaims, clientIDs []string) error {
	if isATJWTType(typ) {
		return nil
	}
	if requireType {
		return ErrNotATJWT
	}
	if says, ok := declaredUse(c); ok {
		if says {
			return nil
		}
		return ErrIDToken
	}
	if hasAny(c, "nonce", "at_hash", "c_hash") {
		return ErrIDToken
	}
	if !namesClient(c, clientIDs) || hasAny(c, "client_id", "scope", "scp") {
		return nil
	}
	return ErrIDToken
}

// declaredUse reads what a token's claims say it is: isAccess is true for
// an access token, false for an ID token; ok is false when they do not say.
func declaredUse(c jwt.MapClaims) (isAccess, ok bool) {
	switch strings.ToLower(ClaimString(c, "typ")) {
	case "bearer", "at+jwt":
		return true, true
	case "id":
		return false, true
	}
	switch ClaimString(c, "token_use") {
	case "access":
		return true, true
	case "id":
		return false, true
	}
	return false, false
}

// hasAny reports whether c holds any of the claims names.
func hasAny(c jwt.MapClaims, names ...string) bool {
	for _, k := range names {
		if _, ok := c[k]; ok {
			return true
		}
	}
	return false
}

// isATJWTType reports whether a "typ" header names an RFC 9068 access
// token: "at+jwt" or "application/at+jwt", compared as media types are
// (RFC 7515 section 4.1.9: case-insensitive, "application/" optional).
func isATJWTType(typ string) bool {
	t := strings.ToLower(typ)
	return strings.TrimPrefix(t, "application/") == "at+jwt"
}

// namesClient reports whether a token's "aud" or "azp" is one of
// clientIDs.
func namesClient(c jwt.MapClaims, clientIDs []string) bool {
	if len(clientIDs) == 0 {
		return false
	}
	if slices.Contains(clientIDs, ClaimString(c, "azp")) {
		return true
	}
	aud, _ := c.GetAudience()
	for _, a := range aud {
		if slices.Contains(clientIDs, a) {
			return true
		}
	}
	return false
}
