// Package mint signs short-lived JWTs and publishes the keys that verify
// them, apart from any session: Signer validates the signing keys, stamps
// the registered claims on a token and signs it with the first key, and
// encodes the public halves of every key as a JWK Set (RFC 7517); Cache
// keeps signed tokens per session and template until shortly before they
// expire, for one state of the session at a time.
package mint
