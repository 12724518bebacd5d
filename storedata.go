package sessionkit

import (
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/wire"
)

// The Data of a stored Record is a small header, then the session payload
// of appendPayload:
//
//	storeDataVersion, gen, rotatedAt (Unix ms), retryAt (Unix ms), failures,
//	flags (bit 0: seen), floor, n, n × (sign-in ID, provider session ID)
//
// A forwarding stub starts with storeMovedV1 instead (rotate.go).
const storeDataVersion = 3

// maxStoredPSIDs bounds the provider session IDs a record keeps: one per
// sign-in at most.
const maxStoredPSIDs = maxSignIns

// ownedPSID is a provider session ID (a "sid" qualified with its issuer)
// and the sign-in whose ID token carried it.
type ownedPSID struct {
	signIn string
	psid   string
}

// storeMeta is what the Manager keeps beside a stored session.
type storeMeta struct {
	// gen is the session's generation: 1 at sign-in, one more every time
	// its cookie is re-issued with new contents (refresh, update). Cookies
	// carry the generation they were issued at; an older one, presented
	// after the grace window, is a copied cookie.
	gen uint64
	// rotatedAt is when gen last advanced; cookies of the generations from
	// floor on are accepted until rotatedAt + theftGrace, for requests in
	// flight.
	rotatedAt time.Time
	// floor is the oldest generation still accepted while gen is in its
	// grace window or unseen: the generation that was current when the
	// latest run of rotations, each within theftGrace of the one before,
	// began (gen-1 after a single rotation). A request that both records
	// activity and refreshes advances gen twice.
	floor uint64
	// seen means a request has presented the cookie of gen: its client
	// got it. Until then a cookie of gen-1 is accepted past the grace
	// window too (the response that carried the new cookie may have been
	// lost), and brought up to date.
	seen bool
	// retryAt is when a refresh that failed transiently may be tried
	// again, by any instance; failures counts them in a row.
	retryAt  time.Time
	failures uint64
	// psids are the provider session IDs of the session's sign-ins, which
	// back-channel logout finds the session by (Record.ProviderSessionIDs).
	psids []ownedPSID
	// rotate, set by a mutation and never stored, asks mutate to save the
	// session under a new ID (a privilege change) instead of in place.
	rotate bool
}

// advance starts a new generation at now, whose cookie no client has
// presented yet.
func (meta *storeMeta) advance(now time.Time) {
	meta.floor = meta.acceptedFrom(now)
	meta.gen++
	meta.rotatedAt = now
	meta.seen = false
}

// acceptedFrom is the oldest generation whose cookie is accepted at now
// (and brought up to date): floor while the current generation is in its
// grace window or no client has presented its cookie yet, and otherwise
// only the current one. An older cookie, presented at now, is a copy.
func (meta *storeMeta) acceptedFrom(now time.Time) uint64 {
	if meta.floor != 0 && meta.floor < meta.gen && (now.Before(meta.rotatedAt.Add(theftGrace)) || !meta.seen) {
		return meta.floor
	}
	return meta.gen
}

// addPSID records that sign-in in carries provider session psid.
func (meta *storeMeta) addPSID(in, psid string) {
	if psid == "" || slices.Contains(meta.psids, ownedPSID{in, psid}) {
		return
	}
	meta.psids = append(meta.psids, ownedPSID{in, psid})
}

// prunePSIDs drops the provider session IDs of sign-ins s no longer holds,
// and returns the remaining ones as Record.ProviderSessionIDs lists them.
func (meta *storeMeta) prunePSIDs(s *Session) []string {
	meta.psids = slices.DeleteFunc(meta.psids, func(o ownedPSID) bool {
		return !s.hasSignIn(o.signIn)
	})
	if len(meta.psids) > maxStoredPSIDs {
		meta.psids = meta.psids[len(meta.psids)-maxStoredPSIDs:]
	}
	var out []string
	for _, o := range meta.psids {
		if !slices.Contains(out, o.psid) {
			out = append(out, o.psid)
		}
	}
	return out
}

// appendStored appends the Data of a stored session to b.
func appendStored(b []byte, meta storeMeta, s *Session) []byte {
	b = append(b, storeDataVersion)
	b = binary.AppendUvarint(b, meta.gen)
	b = wire.AppendMilli(b, meta.rotatedAt)
	b = wire.AppendMilli(b, meta.retryAt)
	b = binary.AppendUvarint(b, meta.failures)
	var flags uint64
	if meta.seen {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, meta.floor)
	b = binary.AppendUvarint(b, uint64(len(meta.psids)))
	for _, o := range meta.psids {
		b = wire.AppendString(b, o.signIn)
		b = wire.AppendString(b, o.psid)
	}
	return appendPayload(b, s)
}

// decodeStored decodes a Record's Data written by appendStored.
func decodeStored(p []byte) (storeMeta, *Session, error) {
	if len(p) == 0 || p[0] != storeDataVersion {
		return storeMeta{}, nil, errMalformedPayload
	}
	// The session's strings share p, which no one writes: the caller's
	// own copy, or bytes the Store shares with readers (store.SharedLoad) and
	// never changes in place.
	r := wire.NewReader(wire.StringOf(p[1:]))
	var meta storeMeta
	meta.gen = r.Uvarint()
	meta.rotatedAt = r.Milli()
	meta.retryAt = r.Milli()
	meta.failures = r.Uvarint()
	flags := r.Uvarint()
	if flags > 1 {
		r.Fail()
	}
	meta.seen = flags&1 != 0
	meta.floor = r.Uvarint()
	n := r.Uvarint()
	if n > maxStoredPSIDs {
		r.Fail()
	}
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		o := ownedPSID{signIn: r.Str(), psid: r.Str()}
		if o.signIn == "" || o.psid == "" {
			r.Fail()
		}
		meta.psids = append(meta.psids, o)
	}
	if r.Err() != nil || meta.gen == 0 || meta.floor > meta.gen {
		return storeMeta{}, nil, errMalformedPayload
	}
	s, err := decodePayload(p[1+r.Offset():])
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
