package refresh

import "crypto/sha256"

// Key identifies one refresh token of one provider without holding the
// token itself.
type Key [sha256.Size]byte

// KeyOf returns the Key of provider's refresh token.
func KeyOf(provider, refreshToken string) Key {
	return sha256.Sum256([]byte(provider + "\x00" + refreshToken))
}
