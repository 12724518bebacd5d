package sessionkit

import (
	"encoding/binary"
	"slices"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/internal/wire"
)

// The cookie payload (cookieCodec.sealCookie seals it) is payloadVersion,
// sessionFields, the count of sign-ins, and signInFields for each in sign-in
// order, in wire's encoding: any bytes decode or fail, never panic.
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
	status, active := s.Status, s.SignIn.ID
	if status == StatusActive || status == StatusExpired || status == StatusAbandoned {
		status = "" // computed on decode
	}
	f := sessionFields(s, (*string)(&status), &active)
	b = wire.AppendFields(append(b, payloadVersion), f[:]...)
	if active == "" {
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
	var flags byte
	if in.User.EmailVerified {
		flags |= userFlagEV
	}
	if in.User.PhoneVerified {
		flags |= userFlagPV
	}
	actor := ""
	if in.Actor != nil {
		actor = in.Actor.Subject
	}
	f := signInFields(in, &flags, &actor)
	return wire.AppendFields(b, f[:]...)
}

// sessionFields lists the encoded fields of s; status and active stand in
// for its status as encoded and its active sign-in's ID.
func sessionFields(s *Session, status, active *string) [8]any {
	return [...]any{&s.ID, &s.CreatedAt, &s.LastActiveAt, &s.ExpireAt, &s.AbandonAt, status, &s.Error, active}
}

// signInFields lists the encoded fields of in; flags and actor stand in
// for its user's verification flags and its actor's subject.
func signInFields(in *SignIn, flags *byte, actor *string) [22]any {
	u := &in.User
	return [...]any{&in.ID, &in.Provider, &u.ID, &u.Name, &u.Email, &u.Image, &u.FirstName, &u.LastName, &u.Username,
		&u.PhoneNumber, flags, &in.AccessToken, &in.TokenType, &in.AccessTokenExpiresAt, &in.RefreshToken, &in.IDToken,
		&in.IDTokenExpiresAt, actor, &in.ActiveOrganizationID, &in.ActiveWorkspaceID, &in.CreatedAt, &in.AccessTokenIssuedAt}
}

// decodePayload decodes a payload written by appendPayload, sharing p's
// memory: nothing may write to p afterwards.
func decodePayload(p []byte) (*Session, error) {
	if len(p) == 0 || p[0] != payloadVersion {
		return nil, errMalformedPayload
	}
	r := wire.NewReader(wire.StringOf(p[1:]))
	s := &Session{Source: SourceCookie}
	var status, active string
	f := sessionFields(s, &status, &active)
	r.Fields(f[:]...)
	switch st := Status(status); st {
	case "":
	case StatusEnded, StatusRemoved, StatusReplaced, StatusRevoked:
		s.Status = st
	default:
		r.Fail()
	}
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
		// With no sign-in named active, the check below fails.
		s.setSignIns(all, max(slices.IndexFunc(all, func(in SignIn) bool { return in.ID == active }), 0))
	}
	if !r.Done() || s.SignIn.ID != active {
		return nil, errMalformedPayload
	}
	return s, nil
}

// readSignIn decodes one sign-in written by appendSignIn into in.
func readSignIn(r *wire.Reader, in *SignIn) {
	var flags byte
	var actor string
	f := signInFields(in, &flags, &actor)
	r.Fields(f[:]...)
	if flags&^userFlagAll != 0 {
		r.Fail()
	}
	in.User.EmailVerified = flags&userFlagEV != 0
	in.User.PhoneVerified = flags&userFlagPV != 0
	if actor != "" {
		in.Actor = &Actor{Subject: actor}
	}
}
