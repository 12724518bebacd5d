package sessionkit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sessionkit/sessionkit/internal/fielderr"
)

// Sentinel errors. Callers branch on them with errors.Is; the errors the
// library returns wrap them with context and, where there is one, the cause.
var (
	// ErrNoSession means the request carries no session credential at all.
	ErrNoSession = errors.New("sessionkit: no session")

	// ErrSessionExpired means the session was recognised but its lifetime is
	// over (Status expired or abandoned).
	ErrSessionExpired = errors.New("sessionkit: session expired")

	// ErrInvalidCookie means a session cookie was present but could not be
	// authenticated, decrypted or decoded: tampered, truncated, missing a
	// chunk, too large, or sealed with a key that is no longer configured.
	ErrInvalidCookie = errors.New("sessionkit: invalid session cookie")

	// ErrInvalidToken means a bearer JWT (or a JWT read from a cookie) failed
	// verification: malformed, bad signature, disallowed algorithm, unknown
	// key, or a claim check (iss, aud, azp, nbf, iat) that failed.
	ErrInvalidToken = errors.New("sessionkit: invalid token")

	// ErrTokenExpired, always joined with ErrInvalidToken, means a JWT
	// otherwise valid was presented after its exp (plus leeway).
	ErrTokenExpired = errors.New("sessionkit: token expired")

	// ErrNotConfigured is returned by a method whose feature the Config does
	// not enable, naming what is missing: Config.Keys to write a session
	// cookie, Config.Tokens for GetToken, Config.Store (or the optional store
	// interface a feature needs) to act on server-side sessions.
	ErrNotConfigured = errors.New("sessionkit: not configured")

	// ErrSessionTooLarge means an encoded session would need more cookie
	// chunks than the Manager allows.
	ErrSessionTooLarge = errors.New("sessionkit: session too large for cookies")

	// ErrInvalidSession is returned by SignIn and UpdateSession when the
	// session they would write is not acceptable (for example, no user ID).
	ErrInvalidSession = errors.New("sessionkit: invalid session")
)

var (
	errCookiesDisabled    = fmt.Errorf("%w: cookie sessions need Config.Keys", ErrNotConfigured)
	errStoreRequired      = fmt.Errorf("%w: a session store (Config.Store) is required", ErrNotConfigured)
	errTokensDisabled     = fmt.Errorf("%w: session tokens need Config.Tokens", ErrNotConfigured)
	errInvalidIDToken     = fmt.Errorf("%w: id token", ErrInvalidToken)
	errInvalidLogoutToken = fmt.Errorf("%w: logout token", ErrInvalidToken)
)

// ConfigError reports a Config field that New rejected.
type ConfigError struct {
	// Field is the rejected field's path as written in Go source, such as
	// "Keys[1]" or "Bearer.JWKSURLs[0]".
	Field string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error names the field and the reason.
func (e *ConfigError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sessionkit: Config.%s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("sessionkit: Config.%s: %s", e.Field, e.Reason)
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// fieldConfigErr reports a field an internal check refused as a
// *ConfigError, its path prefixed by prefix; an error of another kind is
// reported under the prefix alone.
func fieldConfigErr(prefix string, err error) error {
	var fe *fielderr.Error
	if !errors.As(err, &fe) {
		return &ConfigError{Field: strings.TrimSuffix(prefix, "."), Reason: "refused", Err: err}
	}
	return &ConfigError{Field: prefix + fe.Field, Reason: fe.Reason, Err: fe.Err}
}

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
