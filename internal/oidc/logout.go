package oidc

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// backChannelEvent is the member of a logout token's "events" claim that
// makes it one (OpenID Connect Back-Channel Logout 1.0, section 2.4).
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// The bounds of how long a logout token's "jti" is remembered.
const (
	minJTIMemory = time.Minute
	maxJTIMemory = 7 * 24 * time.Hour
)

// LogoutTokenMaxAge is how old, by its "iat", a logout token without "exp"
// may be when its provider allows such tokens.
const LogoutTokenMaxAge = 2 * time.Minute

// NoExpMaxAge is how old a logout token without "exp" may be:
// LogoutTokenMaxAge when such tokens are allowed, else 0 ("exp" required).
func NoExpMaxAge(allowed bool) time.Duration {
	if allowed {
		return LogoutTokenMaxAge
	}
	return 0
}

// Logout is what a verified back-channel logout token says.
type Logout struct {
	SID, Sub string // at least one is set
	JTI      string
}

// UnverifiedIssuer returns the "iss" of the token raw, read without
// verifying it, to find the provider whose keys verify it.
func UnverifiedIssuer(raw string) (string, error) {
	unverified := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, unverified); err != nil {
		return "", errors.New("malformed")
	}
	iss, _ := unverified["iss"].(string)
	return iss, nil
}

// LogoutClaims checks the claims of a verified logout token that make it
// one (an "iat", the back-channel logout event, no "nonce", a "sid" or
// "sub", a "jti") and returns what it says.
func LogoutClaims(claims jwt.MapClaims) (Logout, error) {
	iat, _ := claims.GetIssuedAt()
	if iat == nil {
		return Logout{}, errors.New("no iat")
	}
	// Its jti is remembered a week at most: a token that lives longer
	// could be replayed after that.
	if exp, _ := claims.GetExpirationTime(); exp != nil && exp.Sub(iat.Time) > maxJTIMemory {
		return Logout{}, errors.New("a logout token must not live longer than a week")
	}
	events, _ := claims["events"].(map[string]any)
	if _, ok := events[backChannelEvent].(map[string]any); !ok {
		return Logout{}, errors.New("the events claim holds no back-channel logout event")
	}
	if _, ok := claims["nonce"]; ok {
		return Logout{}, errors.New("a logout token must not carry a nonce")
	}
	var lt Logout
	lt.SID, _ = claims["sid"].(string)
	lt.Sub, _ = claims["sub"].(string)
	if lt.SID == "" && lt.Sub == "" {
		return Logout{}, errors.New("neither sid nor sub")
	}
	if lt.JTI, _ = claims["jti"].(string); lt.JTI == "" {
		return Logout{}, errors.New("no jti")
	}
	return lt, nil
}

// JTIMemory is how long the "jti" of a logout token with these claims must
// be remembered to refuse its replay: until it expires, leeway included,
// within a minute and a week. A token without "exp" expires
// LogoutTokenMaxAge after its "iat".
func JTIMemory(claims jwt.MapClaims, leeway time.Duration, now time.Time) time.Duration {
	var until time.Time
	if exp, _ := claims.GetExpirationTime(); exp != nil {
		until = exp.Time
	} else if iat, _ := claims.GetIssuedAt(); iat != nil {
		until = iat.Add(LogoutTokenMaxAge)
	}
	return min(max(until.Sub(now)+leeway, minJTIMemory), maxJTIMemory)
}
