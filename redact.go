package sessionkit

import (
	"fmt"
	"log/slog"

	"github.com/sessionkit/sessionkit/internal/redact"
)

// A Session or SignIn formatted with fmt (%v, %+v, %#v, %s) or logged with
// log/slog shows its credentials as "[redacted]".

// String describes the session without its credentials.
func (s Session) String() string {
	return fmt.Sprintf("Session{ID:%s Status:%s Source:%s User:%s Provider:%s CreatedAt:%s LastActiveAt:%s ExpireAt:%s AbandonAt:%s "+
		"AccessToken:%s AccessTokenExpiresAt:%s RefreshToken:%s IDToken:%s JWT:%s Error:%s Actor:%v Org:%s Workspace:%s SignIn:%s OtherSignIns:%d}",
		s.ID, s.Status, s.Source, s.User.ID, s.Provider, redact.Time(s.CreatedAt), redact.Time(s.LastActiveAt), redact.Time(s.ExpireAt), redact.Time(s.AbandonAt),
		redact.Secret(s.AccessToken), redact.Time(s.AccessTokenExpiresAt), redact.Secret(s.RefreshToken), redact.Secret(s.IDToken), redact.Secret(s.JWT),
		s.Error, s.Actor, s.ActiveOrganizationID, s.ActiveWorkspaceID, s.SignIn.ID, len(s.OtherSignIns))
}

// GoString is String, so that %#v redacts too.
func (s Session) GoString() string { return s.String() }

// LogValue presents the session to log/slog without its credentials.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID),
		slog.String("status", string(s.Status)),
		slog.String("source", string(s.Source)),
		slog.String("user", s.User.ID),
		slog.String("provider", s.Provider),
		slog.Time("expireAt", s.ExpireAt),
		slog.String("error", s.Error),
		slog.String("activeOrganizationId", s.ActiveOrganizationID),
	)
}

// String describes the sign-in without its credentials.
func (in SignIn) String() string {
	return fmt.Sprintf("SignIn{ID:%s Provider:%s User:%s AccessToken:%s AccessTokenExpiresAt:%s RefreshToken:%s IDToken:%s Actor:%v Org:%s Workspace:%s}",
		in.ID, in.Provider, in.User.ID, redact.Secret(in.AccessToken), redact.Time(in.AccessTokenExpiresAt),
		redact.Secret(in.RefreshToken), redact.Secret(in.IDToken), in.Actor, in.ActiveOrganizationID, in.ActiveWorkspaceID)
}

// GoString is String, so that %#v redacts too.
func (in SignIn) GoString() string { return in.String() }

// LogValue presents the sign-in to log/slog without its credentials.
func (in SignIn) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", in.ID),
		slog.String("provider", in.Provider),
		slog.String("user", in.User.ID),
	)
}
