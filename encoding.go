package sessionkit

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"
	"unsafe"
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
	maxSignIns  = 16
	userFlagEV  = 1 << 0 // email verified
	userFlagPV  = 1 << 1 // phone verified
	userFlagAll = userFlagEV | userFlagPV
)

var errMalformedPayload = errors.New("malformed session payload")

// appendPayload appends the encoding of s to b.
func appendPayload(b []byte, s *Session) []byte {
	b = append(b, payloadVersion)
	b = appendString(b, s.ID)
	b = appendTime(b, s.CreatedAt)
	b = appendTime(b, s.LastActiveAt)
	b = appendTime(b, s.ExpireAt)
	b = appendTime(b, s.AbandonAt)
	status := s.Status
	if status == StatusActive || status == StatusExpired || status == StatusAbandoned {
		status = "" // computed on decode
	}
	b = appendString(b, string(status))
	b = appendString(b, s.Error)
	b = appendString(b, s.SignIn.ID)
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
	b = appendString(b, in.ID)
	b = appendString(b, in.Provider)
	u := &in.User
	for _, f := range [...]string{u.ID, u.Name, u.Email, u.Image, u.FirstName, u.LastName, u.Username, u.PhoneNumber} {
		b = appendString(b, f)
	}
	var flags byte
	if u.EmailVerified {
		flags |= userFlagEV
	}
	if u.PhoneVerified {
		flags |= userFlagPV
	}
	b = append(b, flags)
	b = appendString(b, in.AccessToken)
	b = appendString(b, in.TokenType)
	b = appendTime(b, in.AccessTokenExpiresAt)
	b = appendString(b, in.RefreshToken)
	b = appendString(b, in.IDToken)
	b = appendTime(b, in.IDTokenExpiresAt)
	actor := ""
	if in.Actor != nil {
		actor = in.Actor.Subject
	}
	b = appendString(b, actor)
	b = appendString(b, in.ActiveOrganizationID)
	b = appendString(b, in.ActiveWorkspaceID)
	b = appendTime(b, in.CreatedAt)
	return appendTime(b, in.AccessTokenIssuedAt)
}

// decodePayload decodes a payload written by appendPayload. The session's
// strings are p's memory, not a copy: the caller gives p up, and nothing may
// write to it afterwards (cookieCodec.open's payloads are such; decodeStored
// copies what a Store returns).
func decodePayload(p []byte) (*Session, error) {
	if len(p) == 0 || p[0] != payloadVersion {
		return nil, errMalformedPayload
	}
	r := payloadReader{s: stringOf(p[1:])}
	s := &Session{Source: SourceCookie}
	s.ID = r.str()
	s.CreatedAt = r.time()
	s.LastActiveAt = r.time()
	s.ExpireAt = r.time()
	s.AbandonAt = r.time()
	switch st := Status(r.str()); st {
	case "":
	case StatusEnded, StatusRemoved, StatusReplaced, StatusRevoked:
		s.Status = st
	default:
		r.fail()
	}
	s.Error = r.str()
	active := r.str()
	n := r.uvarint()
	if n > maxSignIns || r.err != nil {
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
	if r.err != nil || r.off != len(r.s) || s.SignIn.ID != active {
		return nil, errMalformedPayload
	}
	return s, nil
}

// readSignIn decodes one sign-in written by appendSignIn into in.
func readSignIn(r *payloadReader, in *SignIn) {
	in.ID = r.str()
	in.Provider = r.str()
	u := &in.User
	for _, f := range [...]*string{&u.ID, &u.Name, &u.Email, &u.Image, &u.FirstName, &u.LastName, &u.Username, &u.PhoneNumber} {
		*f = r.str()
	}
	flags := r.byte()
	if flags&^userFlagAll != 0 {
		r.fail()
	}
	u.EmailVerified = flags&userFlagEV != 0
	u.PhoneVerified = flags&userFlagPV != 0
	in.AccessToken = r.str()
	in.TokenType = r.str()
	in.AccessTokenExpiresAt = r.time()
	in.RefreshToken = r.str()
	in.IDToken = r.str()
	in.IDTokenExpiresAt = r.time()
	if a := r.str(); a != "" {
		in.Actor = &Actor{Subject: a}
	}
	in.ActiveOrganizationID = r.str()
	in.ActiveWorkspaceID = r.str()
	in.CreatedAt = r.time()
	in.AccessTokenIssuedAt = r.time()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(max(t.Unix(), 1)))
}

type payloadReader struct {
	s   string
	off int
	err error
}

func (r *payloadReader) fail() { r.err = errMalformedPayload }

func (r *payloadReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.off >= len(r.s) {
			r.fail()
			return 0
		}
		c := r.s[r.off]
		r.off++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				r.fail()
				return 0
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail()
	return 0
}

func (r *payloadReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.off) {
		r.fail()
		return ""
	}
	v := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

func (r *payloadReader) byte() byte {
	if r.err != nil || r.off >= len(r.s) {
		r.fail()
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

// maxUnix bounds decoded times to what time.Unix represents sensibly.
const maxUnix = 1 << 40

func (r *payloadReader) time() time.Time {
	v := r.uvarint()
	if v == 0 || r.err != nil {
		return time.Time{}
	}
	if v > maxUnix {
		r.fail()
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

// With a Store, the cookie holds a reference to the stored session, not the
// session: payloadRef, the session ID and the generation the cookie was
// issued at (see storeMeta). decodePayload refuses it, so a Manager without
// the Store never takes a reference for a session.
const payloadRef = 0x80

// appendRef appends the cookie payload that refers to session id at
// generation gen.
func appendRef(b []byte, id string, gen uint64) []byte {
	b = append(b, payloadRef)
	b = appendString(b, id)
	return binary.AppendUvarint(b, gen)
}

// decodeRef decodes a payload written by appendRef.
func decodeRef(p []byte) (cookieRef, error) {
	if len(p) == 0 || p[0] != payloadRef {
		return cookieRef{}, errMalformedPayload
	}
	r := payloadReader{s: string(p[1:])}
	ref := cookieRef{id: r.str(), gen: r.uvarint()}
	if r.err != nil || r.off != len(r.s) || ref.id == "" || ref.gen == 0 {
		return cookieRef{}, errMalformedPayload
	}
	return ref, nil
}

// cookieRef is what a store-backed session cookie says: which session, and
// the generation it was issued at.
type cookieRef struct {
	id  string
	gen uint64
}

func appendMilli(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(max(t.UnixMilli(), 1)))
}

func (r *payloadReader) milli() time.Time {
	v := r.uvarint()
	if v == 0 || r.err != nil {
		return time.Time{}
	}
	if v > maxUnix*1000 {
		r.fail()
		return time.Time{}
	}
	return time.UnixMilli(int64(v)).UTC()
}

// stringOf returns b as a string without a copy: b must never be written
// again while the string (or anything sliced from it) is in use.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
