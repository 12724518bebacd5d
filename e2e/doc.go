// Package e2e holds sessionkit's end-to-end tests: sign-in, the session
// endpoints and token refresh, run against a real OpenID Connect provider
// (devoidc, built on zitadel/oidc's certified op package) over loopback.
// It is a module of its own so that the provider's dependencies stay out of
// the core module. It has no non-test code.
package e2e
