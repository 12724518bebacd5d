package sessionkit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/wire"
)

func samplePayloadSession() *Session {
	return &Session{
		ID: "sess_1", CreatedAt: t0, LastActiveAt: t0, ExpireAt: t0.Add(time.Hour), AbandonAt: t0.Add(2 * time.Hour),
		SignIn: SignIn{ID: "a", Provider: "oidc", User: User{ID: "u", Email: "e@x", EmailVerified: true, PhoneVerified: true},
			AccessToken: "at", TokenType: "Bearer", AccessTokenExpiresAt: t0.Add(time.Hour), RefreshToken: "rt",
			IDToken: "it", IDTokenExpiresAt: t0, Actor: &Actor{Subject: "adm"}, ActiveOrganizationID: "o", ActiveWorkspaceID: "w", CreatedAt: t0},
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	s := samplePayloadSession()
	got, err := decodePayload(appendPayload(nil, s))
	if err != nil {
		t.Fatal(err)
	}
	want := s.Clone()
	want.Source = SourceCookie
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.SignIns(), want.SignIns())
	}
	// Store-only statuses survive; computed ones are not stored.
	for _, st := range []Status{StatusRevoked, StatusEnded, StatusRemoved, StatusReplaced} {
		s.Status = st
		if got, _ := decodePayload(appendPayload(nil, s)); got.Status != st {
			t.Errorf("status %s: got %s", st, got.Status)
		}
	}
	s.Status = StatusExpired
	if got, _ := decodePayload(appendPayload(nil, s)); got.Status != "" {
		t.Errorf("computed status stored: %s", got.Status)
	}
}

// TestPayloadRejects covers each structural check of the decoder. All of
// them run after the MAC, so they guard against our own bugs and future
// format changes rather than against an attacker.
func TestPayloadRejects(t *testing.T) {
	good := appendPayload(nil, samplePayloadSession())
	withSession := func(mod func(*Session)) []byte {
		s := samplePayloadSession()
		mod(s)
		return appendPayload(nil, s)
	}
	// flagsAt finds the user-flags byte of the first sign-in by encoding a
	// twin with different flags.
	twin := withSession(func(s *Session) { s.SignIn.User.EmailVerified, s.SignIn.User.PhoneVerified = false, false })
	flagsAt := -1
	for i := range good {
		if good[i] != twin[i] {
			flagsAt = i
			break
		}
	}
	badFlags := append([]byte(nil), good...)
	badFlags[flagsAt] = 0x80
	tooMany := withSession(func(s *Session) {
		for len(s.SignIns()) <= maxSignIns {
			s.OtherSignIns = append(s.OtherSignIns, SignIn{ID: "x"})
		}
	})
	hugeTime := append([]byte{payloadVersion}, wire.AppendString(nil, "id")...)
	hugeTime = binary.AppendUvarint(hugeTime, wire.MaxUnix+1)
	// The active sign-in's ID is written first, then again with its
	// sign-in: changing the first leaves the active ID naming none.
	noActive := withSession(func(s *Session) { s.SignIn.ID = "act1" })
	noActive = bytes.Replace(noActive, []byte("act1"), []byte("miss"), 1)
	badStatus := withSession(func(s *Session) { s.Status = "hijacked" })

	tests := []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{3}, good[1:]...)},
		{"version 1", append([]byte{1}, good[1:]...)},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"truncated", good[:len(good)-1]},
		{"no active sign-in", noActive},
		{"unknown user flags", badFlags},
		{"too many sign-ins", tooMany},
		{"time past range", hugeTime},
		{"status not storable", badStatus},
		{"overlong varint", []byte{payloadVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"string past end", []byte{payloadVersion, 0x7f, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodePayload(tt.p); !errors.Is(err, errMalformedPayload) {
				t.Fatalf("got %v, want errMalformedPayload", err)
			}
		})
	}
}
