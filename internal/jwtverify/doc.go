// Package jwtverify verifies JWTs against keys known in advance and keys
// fetched from JWK Set URLs, apart from any session: an allow-list of
// algorithms whose key family must match the key's, the registered claims
// (iss, aud, azp, exp, nbf, iat) with a bounded leeway, OpenID Connect ID
// tokens with their nonce, and the refusal of an ID token offered as an
// access token. It also reads the token of an "Authorization: Bearer"
// header.
//
// Its errors carry no library prefix: callers wrap them in their own.
package jwtverify
