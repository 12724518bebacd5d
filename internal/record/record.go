// Package record holds what the Manager keeps beside a stored session, and
// the binary forms around it: the record's metadata (cookie generations,
// refresh retries, provider session IDs) and its encoding as the header of
// a stored Record's Data, the forwarding stub a session leaves at its old
// ID when it moves, and the reference a store-backed cookie carries. It
// knows nothing of sessions.
package record

import (
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/wire"
)

// Grace is how long after a session's cookie is re-issued the cookie of
// the previous generation is still accepted, for requests that were in
// flight. Past it, once a request has presented the new cookie, the old one
// is taken for a copy.
const Grace = 30 * time.Second

// MaxSignIns is the most sign-ins a session holds, and so the most
// provider session IDs its record keeps.
const MaxSignIns = 16

// PSID is a provider session ID (a "sid" qualified with its issuer) and the
// sign-in whose ID token carried it.
type PSID struct {
	// SignIn is the ID of the sign-in.
	SignIn string
	// ID is the qualified provider session ID (ProviderSessionID).
	ID string
}

// Meta is what the Manager keeps beside a stored session.
type Meta struct {
	// Gen is the session's generation: 1 at sign-in, one more every time
	// its cookie is re-issued with new contents. Cookies carry the
	// generation they were issued at; an older one, presented after the
	// grace window, is a copied cookie.
	Gen uint64
	// RotatedAt is when Gen last advanced.
	RotatedAt time.Time
	// Floor is the oldest generation still accepted while Gen is in its
	// grace window or unseen: the generation current when the latest run
	// of rotations, each within Grace of the one before, began (Gen-1
	// after a single rotation). A request that both records activity and
	// refreshes advances Gen twice.
	Floor uint64
	// Seen means a request has presented the cookie of Gen, so its client
	// got it. Until then older cookies from Floor on are accepted past the
	// grace window too: the response that carried the new one may have
	// been lost.
	Seen bool
	// RetryAt is when a refresh that failed transiently may be tried
	// again, by any instance.
	RetryAt time.Time
	// Failures counts the refreshes that failed transiently in a row.
	Failures uint64
	// PSIDs are the provider session IDs of the session's sign-ins, which
	// back-channel logout finds the session by.
	PSIDs []PSID
	// Rotate, set by a change and never encoded, asks for the session to
	// be saved under a new ID (a privilege change) instead of in place.
	Rotate bool
}

// New is the metadata of a session that starts (or moves to a new ID) at
// now: generation 1, not yet seen.
func New(now time.Time) Meta { return Meta{Gen: 1, Floor: 1, RotatedAt: now} }

// Advance starts a new generation at now, whose cookie no client has
// presented yet.
func (m *Meta) Advance(now time.Time) {
	m.Floor = m.AcceptedFrom(now)
	m.Gen++
	m.RotatedAt = now
	m.Seen = false
}

// Refreshed records a refresh that succeeded at now: a new generation,
// and no failures to back off from.
func (m *Meta) Refreshed(now time.Time) {
	m.Advance(now)
	m.Failures, m.RetryAt = 0, time.Time{}
}

// RefreshFailed records a refresh that failed transiently at now: one more
// failure, and no retry before now + backoff(Failures).
func (m *Meta) RefreshFailed(now time.Time, backoff func(failures uint64) time.Duration) {
	m.Failures++
	m.RetryAt = now.Add(backoff(m.Failures))
}

// AcceptedFrom is the oldest generation whose cookie is accepted at now
// (and brought up to date): Floor while the current generation is in its
// grace window or unseen, otherwise Gen alone. An older cookie is a copy.
func (m *Meta) AcceptedFrom(now time.Time) uint64 {
	if m.Floor != 0 && m.Floor < m.Gen && (now.Before(m.RotatedAt.Add(Grace)) || !m.Seen) {
		return m.Floor
	}
	return m.Gen
}

// Visit records that a client presented the cookie of Gen, starting a new
// generation at now when due, and reports whether m changed.
func (m *Meta) Visit(now time.Time, due bool) bool {
	changed := !m.Seen || due
	m.Seen = true
	if due {
		m.Advance(now)
	}
	return changed
}

// AddPSID records that sign-in signIn carries provider session psid; an
// empty psid is ignored.
func (m *Meta) AddPSID(signIn, psid string) {
	if psid == "" || slices.Contains(m.PSIDs, PSID{signIn, psid}) {
		return
	}
	m.PSIDs = append(m.PSIDs, PSID{signIn, psid})
}

// PrunePSIDs drops the provider session IDs of the sign-ins for which has
// reports false, keeps the newest MaxSignIns, and returns the distinct
// IDs left, as Record.ProviderSessionIDs lists them.
func (m *Meta) PrunePSIDs(has func(signIn string) bool) []string {
	m.PSIDs = slices.DeleteFunc(m.PSIDs, func(o PSID) bool { return !has(o.SignIn) })
	if len(m.PSIDs) > MaxSignIns {
		m.PSIDs = m.PSIDs[len(m.PSIDs)-MaxSignIns:]
	}
	var out []string
	for _, o := range m.PSIDs {
		if !slices.Contains(out, o.ID) {
			out = append(out, o.ID)
		}
	}
	return out
}

// DataVersion starts the Data of a stored session, whose header is
//
//	DataVersion, Gen, RotatedAt (Unix ms), RetryAt (Unix ms), Failures,
//	flags (bit 0: Seen), Floor, n, n × (sign-in ID, provider session ID)
//
// and the session payload follows it.
const DataVersion = 3

// AppendMeta appends the header of a stored session's Data to b.
func AppendMeta(b []byte, m Meta) []byte {
	b = append(b, DataVersion)
	b = binary.AppendUvarint(b, m.Gen)
	b = wire.AppendMilli(b, m.RotatedAt)
	b = wire.AppendMilli(b, m.RetryAt)
	b = binary.AppendUvarint(b, m.Failures)
	var flags uint64
	if m.Seen {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, m.Floor)
	b = binary.AppendUvarint(b, uint64(len(m.PSIDs)))
	for _, o := range m.PSIDs {
		b = wire.AppendString(b, o.SignIn)
		b = wire.AppendString(b, o.ID)
	}
	return b
}

// DecodeMeta decodes the header AppendMeta wrote at the start of p and
// returns the bytes after it, or wire.ErrMalformed. Its strings share p's
// memory, which must not change afterwards.
func DecodeMeta(p []byte) (Meta, []byte, error) {
	if len(p) == 0 || p[0] != DataVersion {
		return Meta{}, nil, wire.ErrMalformed
	}
	r := wire.NewReader(wire.StringOf(p[1:]))
	m := Meta{Gen: r.Uvarint(), RotatedAt: r.Milli(), RetryAt: r.Milli(), Failures: r.Uvarint()}
	flags := r.Uvarint()
	if flags > 1 {
		r.Fail()
	}
	m.Seen = flags&1 != 0
	m.Floor = r.Uvarint()
	n := r.Uvarint()
	if n > MaxSignIns {
		r.Fail()
	}
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		o := PSID{SignIn: r.Str(), ID: r.Str()}
		if o.SignIn == "" || o.ID == "" {
			r.Fail()
		}
		m.PSIDs = append(m.PSIDs, o)
	}
	if r.Err() != nil || m.Gen == 0 || m.Floor > m.Gen {
		return Meta{}, nil, wire.ErrMalformed
	}
	return m, p[1+r.Offset():], nil
}

// ProviderSessionID qualifies an identity provider's session ID with its
// issuer, as Record.ProviderSessionIDs holds it. A NUL byte, which a Store
// refuses, is dropped.
func ProviderSessionID(iss, sid string) string {
	return strings.ReplaceAll(iss+" "+sid, "\x00", "")
}
