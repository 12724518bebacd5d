// Package sessionkit is the server side of the useSession() hooks: a
// net/http middleware that decodes the session cookie or bearer JWT of
// every request, verifies it, and attaches an immutable snapshot of the
// session to the request context.
//
// A Manager, built by New from a Config, does the work:
//
//   - Manager.Middleware decodes every request and never rejects one;
//   - Manager.Require protects a route (401 for API calls, 303 to sign-in
//     for pages);
//   - FromContext and Manager.GetServerSession give handlers the snapshot;
//   - Manager.SignIn, Manager.SignOut and Manager.UpdateSession write and
//     clear sessions;
//   - Manager.Handler serves the Auth.js-compatible session endpoints and
//     the OAuth 2.0 / OpenID Connect sign-in (Config.Providers).
//
// Cookie sessions are a compact record sealed with AES-256-GCM under
// rotatable Config.Keys, chunked past a browser's cookie limit, or an ID
// whose state a Config.Store keeps. Bearer sessions are JWTs
// (github.com/golang-jwt/jwt/v5) checked against static keys or JWK Sets
// (github.com/MicahParks/keyfunc/v3) with an algorithm allow-list and iss,
// aud, azp, exp, nbf and iat checks. Every expiry is computed against
// Config.Now; the Callbacks report what the Manager observes.
package sessionkit
