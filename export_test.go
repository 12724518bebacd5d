package sessionkit

import (
	"context"

	"github.com/sessionkit/sessionkit/internal/seal"
)

// RaceEnabled tells the external tests whether the race detector is on.
const RaceEnabled = raceEnabled

// seal encodes a payload into a cookie value with the first key, for
// the tests: the Manager seals sessions with sealCookie. The value owns its
// memory; payload is not retained.
func (c *cookieCodec) seal(payload []byte) (string, error) {
	bp, raw := c.sealer.Seal(func(b []byte) []byte { return append(b, payload...) })
	defer seal.Release(bp)
	if err := c.checkSize(raw); err != nil {
		return "", err
	}
	return seal.EncodeToString(raw), nil
}

// ErrTicketExpired and ErrTicketUsed let the external tests tell the
// reasons a ticket is refused apart.
var (
	ErrTicketExpired = errTicketExpired
	ErrTicketUsed    = errTicketUsed
)

// BackChannelLogout lets the external tests call backChannelLogout.
func (m *Manager) BackChannelLogout(ctx context.Context, logoutToken string) error {
	return m.backChannelLogout(ctx, logoutToken)
}
