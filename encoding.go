package sessionkit

import (
	"encoding/binary"
	"slices"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/internal/wire"
)

// The cookie payload is a compact binary record, sealed by
// cookieCodec.sealCookie (cookie.go):
//
//	version byte (payloadVersion)
//	session: id, createdAt, lastActiveAt, expireAt, abandonAt, status, error, active sign-in's ID
//	count of sign-ins, then each sign-in in the order they signed in:
//	  id, provider, user (8 strings + a flags byte), accessToken, tokenType,
//	  accessTokenExpiresAt, refreshToken, idToken, idTokenExpiresAt,
//	  actor subject, organization, workspace, createdAt, accessTokenIssuedAt
//
// Strings are a uvarint length and the bytes; times are uvarint Unix seconds,
// 0 for the zero time. Every read is bounds-checked, so any byte string
// decodes to a session or to errMalformedPayload, never a panic.
const payloadVersion = 2

const (
	maxSignIns  = record.MaxSignIns
	userFlagEV  = 1 << 0 // email verified
	userFlagPV  = 1 << 1 // phone verified
	userFlagAll = userFlagEV | userFlagPV
)

var errMalformedPayload = wire.ErrMalformed

// appendPayload appends the encoding of s to b.
func appendPayload(b []byte, s *Session) []byte {
	b = append(b, payloadVersion)
	b = wire.AppendString(b, s.ID)
	b = wire.AppendTime(b, s.CreatedAt)
	b = wire.AppendTime(b, s.LastActiveAt)
	b = wire.AppendTime(b, s.ExpireAt)
	b = wire.AppendTime(b, s.AbandonAt)
	status := s.Status
	if status == StatusActive || status == StatusExpired || status == StatusAbandoned {
		status = "" // computed on decode
	}
	b = wire.AppendString(b, string(status))
	b = wire.AppendString(b, s.Error)
	b = wire.AppendString(b, s.SignIn.ID)
	if s.SignIn.ID == "" {
		return binary.AppendUvarint(b, 0)
	}
	all := s.SignIns()
	b = binary.AppendUvarint(b, uint64(len(all)))
	for i := range all {
		b = appendSignIn(b, &all[i])
	}
	return b
}

// appendSignIn appends the encoding of one sign-in to b.
func appendSignIn(b []byte, in *SignIn) []byte {
	b = wire.AppendString(b, in.ID)
	b = wire.AppendString(b, in.Provider)
	u := &in.User
	for _, f := range u.strings() {
		b = wire.AppendString(b, *f)
	}
	var flags byte
	if u.EmailVerified {
		flags |= userFlagEV
	}
	if u.PhoneVerified {
		flags |= userFlagPV
	}
	b = append(b, flags)
	b = wire.AppendString(b, in.AccessToken)
	b = wire.AppendString(b, in.TokenType)
	b = wire.AppendTime(b, in.AccessTokenExpiresAt)
	b = wire.AppendString(b, in.RefreshToken)
	b = wire.AppendString(b, in.IDToken)
	b = wire.AppendTime(b, in.IDTokenExpiresAt)
	actor := ""
	if in.Actor != nil {
		actor = in.Actor.Subject
	}
	b = wire.AppendString(b, actor)
	b = wire.AppendString(b, in.ActiveOrganizationID)
	b = wire.AppendString(b, in.ActiveWorkspaceID)
	b = wire.AppendTime(b, in.CreatedAt)
	return wire.AppendTime(b, in.AccessTokenIssuedAt)
}

// decodePayload decodes a payload written by appendPayload. The session's
// strings are p's memory, not a copy: the caller gives p up, and nothing may
// write to it afterwards (cookieCodec.open's payloads are such; decodeStored
// copies what a Store returns).
func decodePayload(p []byte) (*Session, error) {
	if len(p) == 0 || p[0] != payloadVersion {
		return nil, errMalformedPayload
	}
	r := wire.NewReader(wire.StringOf(p[1:]))
	s := &Session{Source: SourceCookie}
	s.ID = r.Str()
	s.CreatedAt = r.Time()
	s.LastActiveAt = r.Time()
	s.ExpireAt = r.Time()
	s.AbandonAt = r.Time()
	switch st := Status(r.Str()); st {
	case "":
	case StatusEnded, StatusRemoved, StatusReplaced, StatusRevoked:
		s.Status = st
	default:
		r.Fail()
	}
	s.Error = r.Str()
	active := r.Str()
	n := r.Uvarint()
	if n > maxSignIns || r.Err() != nil {
		return nil, errMalformedPayload
	}
	if n == 1 { // the common case: no slice
		readSignIn(&r, &s.SignIn)
	} else if n > 1 {
		all := make([]SignIn, n)
		for i := range all {
			readSignIn(&r, &all[i])
		}
		i := slices.IndexFunc(all, func(in SignIn) bool { return in.ID == active })
		if i < 0 {
			return nil, errMalformedPayload
		}
		s.setSignIns(all, i)
	}
	if !r.Done() || s.SignIn.ID != active {
		return nil, errMalformedPayload
	}
	return s, nil
}

// readSignIn decodes one sign-in written by appendSignIn into in.
func readSignIn(r *wire.Reader, in *SignIn) {
	in.ID = r.Str()
	in.Provider = r.Str()
	u := &in.User
	for _, f := range u.strings() {
		*f = r.Str()
	}
	flags := r.Byte()
	if flags&^userFlagAll != 0 {
		r.Fail()
	}
	u.EmailVerified = flags&userFlagEV != 0
	u.PhoneVerified = flags&userFlagPV != 0
	in.AccessToken = r.Str()
	in.TokenType = r.Str()
	in.AccessTokenExpiresAt = r.Time()
	in.RefreshToken = r.Str()
	in.IDToken = r.Str()
	in.IDTokenExpiresAt = r.Time()
	if a := r.Str(); a != "" {
		in.Actor = &Actor{Subject: a}
	}
	in.ActiveOrganizationID = r.Str()
	in.ActiveWorkspaceID = r.Str()
	in.CreatedAt = r.Time()
	in.AccessTokenIssuedAt = r.Time()
}
