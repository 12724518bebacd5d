package sessionkit

import (
	"slices"
	"strings"

	"github.com/sessionkit/sessionkit/internal/record"
)

// The root's names for the record types.
type (
	storeMeta = record.Meta
	ownedPSID = record.PSID
	cookieRef = record.Ref
)

// appendStored appends the Data of a stored session to b: record.AppendMeta's
// header, then the session payload (fromRecord decodes it).
func appendStored(b []byte, meta storeMeta, s *Session) []byte {
	return appendPayload(record.AppendMeta(b, meta), s)
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
