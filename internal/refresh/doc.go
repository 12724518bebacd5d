// Package refresh is the mechanism behind refreshing OAuth tokens, apart
// from any session: Group runs one exchange per refresh token at a time,
// shared by every caller that needs it, each caller waiting no longer than
// its context and the Group's wait limit; Memory keeps recent outcomes so
// that a caller still holding a refresh token that was just rotated gets
// its successor's tokens instead of sending the rotated-out token again,
// and a token that failed a moment ago is not tried again before its
// backoff has passed.
package refresh
