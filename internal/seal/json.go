package seal

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrTooLong means a sealed value is longer than the caller allows.
var ErrTooLong = errors.New("sealed value too long")

// SealJSON encodes v as JSON and seals it with the first key, refusing a
// value longer than maxLen.
func (s *Sealer) SealJSON(v any, maxLen int) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed := s.SealString(payload)
	if len(sealed) > maxLen {
		return "", fmt.Errorf("%w: %d bytes, more than %d", ErrTooLong, len(sealed), maxLen)
	}
	return sealed, nil
}

// OpenJSON opens a value SealJSON made into v. It refuses an empty value
// and one longer than maxLen before any work.
func (s *Sealer) OpenJSON(value string, maxLen int, v any) error {
	if value == "" || len(value) > maxLen {
		return ErrFormat
	}
	payload, _, err := s.Open(value)
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, v)
}
