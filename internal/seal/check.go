package seal

import (
	"bytes"
	"fmt"

	"github.com/sessionkit/sessionkit/internal/fielderr"
)

// CheckSecrets checks that each secret has at least MinSecret bytes and is
// not all zero bytes; its Field is the index, as "[1]".
func CheckSecrets(secrets [][]byte) *fielderr.Error {
	for i, k := range secrets {
		if len(k) < MinSecret {
			return fielderr.New(fmt.Sprintf("[%d]", i), "must be at least %d bytes, got %d", MinSecret, len(k))
		}
		if len(bytes.Trim(k, "\x00")) == 0 {
			return fielderr.New(fmt.Sprintf("[%d]", i), "must not be all zero bytes")
		}
	}
	return nil
}
