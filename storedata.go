package sessionkit

import (
	"slices"
	"strings"

	"github.com/sessionkit/sessionkit/internal/record"
)

// The Data of a stored Record is record.AppendMeta's header, then the
// session payload of appendPayload; a forwarding stub is record.AppendMoved's.

// The root's names for the record types.
type (
	storeMeta = record.Meta
	ownedPSID = record.PSID
	cookieRef = record.Ref
)

// appendStored appends the Data of a stored session to b.
func appendStored(b []byte, meta storeMeta, s *Session) []byte {
	return appendPayload(record.AppendMeta(b, meta), s)
}

// decodeStored decodes a Record's Data written by appendStored. The
// session's strings share p, which no one writes: the caller's own copy, or
// bytes the Store shares with readers (store.SharedLoad) and never changes
// in place.
func decodeStored(p []byte) (storeMeta, *Session, error) {
	meta, rest, err := record.DecodeMeta(p)
	if err != nil {
		return storeMeta{}, nil, err
	}
	s, err := decodePayload(rest)
	if err != nil {
		return storeMeta{}, nil, err
	}
	if s.SignIn.ID == "" || s.User.ID == "" {
		return storeMeta{}, nil, errMalformedPayload
	}
	return meta, s, nil
}

// otherUserIDs returns Record.OtherUserIDs for s: the users of its
// sign-ins other than its own, each once. An ID holding a NUL byte, which
// a Store refuses, is left out.
func otherUserIDs(s *Session) []string {
	var out []string
	for i := range s.OtherSignIns {
		id := s.OtherSignIns[i].User.ID
		if id != "" && id != s.User.ID && !slices.Contains(out, id) && strings.IndexByte(id, 0) < 0 {
			out = append(out, id)
		}
	}
	return out
}
