package jwtverify

import (
	"fmt"
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer" header: ""
// and nil when there is no such header (another scheme is not ours), an
// error wrapping ErrMalformedHeader when it is malformed. CheckB64Token
// checks its characters.
func BearerToken(r *http.Request) (string, error) {
	vals := r.Header["Authorization"]
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("%w: more than one header", ErrMalformedHeader)
	}
	tok, ok := BearerCredentials(vals[0])
	if !ok {
		return "", nil
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", fmt.Errorf("%w: empty token", ErrMalformedHeader)
	}
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("%w: %w", ErrMalformedHeader, ErrTooLong)
	}
	return tok, nil
}

// CheckB64Token returns an error wrapping ErrMalformedHeader when tok holds
// bytes RFC 6750's b64token does not allow.
func CheckB64Token(tok string) error {
	if !isB64Token(tok) {
		return fmt.Errorf("%w: invalid characters", ErrMalformedHeader)
	}
	return nil
}

// BearerCredentials splits an Authorization header value: ok reports the
// Bearer scheme (case-insensitive), and rest is what follows its space.
func BearerCredentials(v string) (rest string, ok bool) {
	scheme, rest, _ := strings.Cut(v, " ")
	return rest, strings.EqualFold(scheme, "Bearer")
}

// isB64Token reports whether s matches RFC 6750's b64token.
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// HasBearer reports whether r has an Authorization header of the Bearer
// scheme, well-formed or not.
func HasBearer(r *http.Request) bool {
	for _, v := range r.Header["Authorization"] {
		if _, ok := BearerCredentials(v); ok {
			return true
		}
	}
	return false
}
