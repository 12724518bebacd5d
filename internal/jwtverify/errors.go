package jwtverify

import "errors"

// Causes of a refused token, wrapped with %w in the errors of this
// package. A token that verified but whose only fault is its age wraps
// ErrExpired and nothing else.
var (
	// ErrExpired: the token's "exp" is in the past, and nothing else is wrong.
	ErrExpired = errors.New("token expired")
	// ErrTooLong: the token is longer than MaxTokenLen.
	ErrTooLong = errors.New("token too long")
	// ErrCritHeader: the token names "crit" header parameters.
	ErrCritHeader = errors.New(`"crit" header parameters are not supported`)
	// ErrBadKID: the "kid" header is not a non-empty string of at most
	// 256 bytes.
	ErrBadKID = errors.New(`"kid" header must be a non-empty string of at most 256 bytes`)
	// ErrNoKey: no key verifies the token.
	ErrNoKey = errors.New("no verification key for this token")
	// ErrKeyType: the key the token names is of another family than its
	// algorithm.
	ErrKeyType = errors.New("key type does not match the token's algorithm")
	// ErrAZP: "azp" is missing or not an authorized party.
	ErrAZP = errors.New(`"azp" is missing or not an authorized party`)
	// ErrTimeRange: "exp", "nbf" or "iat" is negative or past year 2262.
	ErrTimeRange = errors.New("a time claim is out of range")
	// ErrNonce: an ID token's "nonce" is not the one expected.
	ErrNonce = errors.New(`"nonce" does not match`)
	// ErrMalformedHeader: the Authorization header is malformed.
	ErrMalformedHeader = errors.New("malformed Authorization header")
	// ErrIDToken: an ID token was offered as an access token.
	ErrIDToken = errors.New("an ID token is not an access token")
	// ErrNotATJWT: the "typ" header is not RFC 9068's at+jwt.
	ErrNotATJWT = errors.New(`header "typ" is not at+jwt (RFC 9068 access token)`)
)
