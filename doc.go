// Package sessionkit is the server side of the useSession() hooks: a
// net/http middleware that decodes the session cookie or bearer JWT of every
// request, verifies it, and attaches an immutable snapshot of the session to
// the request context.
//
// A Manager, built by New from a Config, does the work:
//
//   - Manager.Middleware decodes every request and never rejects one;
//   - Manager.Require protects a route (401 for API calls, 303 to sign-in
//     for pages);
//   - FromContext and Manager.GetServerSession give handlers the snapshot;
//   - Manager.SignIn, Manager.SignOut and Manager.UpdateSession write and
//     clear sessions.
//
// Cookie sessions hold a compact binary record sealed with AES-256-GCM
// (keys derived from Config.Keys, rotated keys, the cookie's name
// authenticated with it), and are split into chunks when they outgrow a
// browser's cookie limit. Bearer sessions are JWTs verified with github.com/golang-jwt/jwt/v5 against keys
// from JWK Sets (github.com/MicahParks/keyfunc/v3) or static keys, with an
// algorithm allow-list and iss, aud, azp, exp, nbf and iat checks.
//
// Every expiry is computed against Config.Now, and the Callbacks report what
// the Manager observes: sign-ins, sign-outs, expired sessions and tokens,
// and credentials that fail verification.
package sessionkit
