package sessionkit

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/internal/claimbox"
)

// Status is the state of a session, with the seven values of Clerk's
// SessionStatus. Only StatusActive allows activity.
type Status string

// The statuses a session can have.
const (
	// StatusActive: the session is valid and all activity is allowed.
	StatusActive Status = "active"
	// StatusExpired: the lifetime is over (AbandonAt, or ExpireAt alone).
	StatusExpired Status = "expired"
	// StatusAbandoned: the session went unused past Config.IdleTimeout.
	StatusAbandoned Status = "abandoned"
	// StatusEnded: the user signed out of the session (Store).
	StatusEnded Status = "ended"
	// StatusRemoved: removed from its client (Manager.Remove).
	StatusRemoved Status = "removed"
	// StatusReplaced: a newer session on its client superseded it (Store).
	StatusReplaced Status = "replaced"
	// StatusRevoked: the application or an administrator ended it (Store).
	StatusRevoked Status = "revoked"
)

// Source tells which credential a session was read from.
type Source string

// The credentials a session can come from.
const (
	// SourceCookie: the encrypted session cookie that SignIn writes.
	SourceCookie Source = "cookie"
	// SourceBearer: an "Authorization: Bearer <JWT>" header.
	SourceBearer Source = "bearer"
	// SourceJWTCookie: a JWT in the cookie JWTConfig.CookieName names.
	SourceJWTCookie Source = "jwt_cookie"
)

// User is the user a session (or one of its sign-ins) belongs to: Auth.js's
// four fields, then Clerk's richer ones, filled from an ID token's or a
// bearer JWT's standard OpenID Connect claims (sub, name, email, picture,
// given_name, family_name, preferred_username, email_verified, phone_*).
type User struct {
	// ID is the user's stable identifier ("sub"); a session always has one.
	ID string `json:"id"`
	// Name is the full display name ("name").
	Name string `json:"name,omitempty"`
	// Email is the primary email address ("email").
	Email string `json:"email,omitempty"`
	// Image is the URL of the user's picture ("picture").
	Image string `json:"image,omitempty"`
	// FirstName is the given name ("given_name").
	FirstName string `json:"firstName,omitempty"`
	// LastName is the family name ("family_name").
	LastName string `json:"lastName,omitempty"`
	// Username is the preferred username ("preferred_username").
	Username string `json:"username,omitempty"`
	// EmailVerified reports that the provider verified Email.
	EmailVerified bool `json:"emailVerified,omitempty"`
	// PhoneNumber is the primary phone number ("phone_number").
	PhoneNumber string `json:"phoneNumber,omitempty"`
	// PhoneVerified reports that the provider verified PhoneNumber.
	PhoneVerified bool `json:"phoneVerified,omitempty"`
}

// Actor is the party acting on behalf of the user when a session was
// started by impersonation: the JWT "act" claim (RFC 8693).
type Actor struct {
	// Subject is the actor's "sub".
	Subject string `json:"sub"`
}

// SignIn is one account signed in to a session, which embeds the active one
// (Session.SignIn) and lists any others in Session.OtherSignIns. The token
// fields are tagged `json:"-"`: JSON never leaks a credential by accident.
type SignIn struct {
	// ID identifies the sign-in within its session (random, "sin_...").
	ID string `json:"id"`
	// Provider names the identity provider the user signed in with.
	Provider string `json:"provider,omitempty"`
	// User is the account signed in.
	User User `json:"user"`
	// AccessToken is the provider's OAuth access token.
	AccessToken string `json:"-"`
	// TokenType is the access token's type, usually "Bearer".
	TokenType string `json:"-"`
	// AccessTokenExpiresAt is when AccessToken expires; zero if unknown.
	AccessTokenExpiresAt time.Time `json:"accessTokenExpiresAt,omitzero"`
	// AccessTokenIssuedAt is when AccessToken was obtained (see
	// Config.RefreshLeeway, which its lifetime caps).
	AccessTokenIssuedAt time.Time `json:"-"`
	// RefreshToken is the provider's refresh token, if any.
	RefreshToken string `json:"-"`
	// IDToken is the raw OpenID Connect ID token, verified at sign-in.
	IDToken string `json:"-"`
	// IDTokenExpiresAt is the ID token's exp.
	IDTokenExpiresAt time.Time `json:"idTokenExpiresAt,omitzero"`
	// Actor is set when the sign-in is an impersonation.
	Actor *Actor `json:"actor,omitempty"`
	// ActiveOrganizationID is the organization the sign-in acts in.
	ActiveOrganizationID string `json:"activeOrganizationId,omitempty"`
	// ActiveWorkspaceID is the workspace the sign-in acts in.
	ActiveWorkspaceID string `json:"activeWorkspaceId,omitempty"`
	// CreatedAt is when the user signed in.
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// Session is the snapshot of a request's session: who is calling, with which
// tokens, in which scope, and whether that is still valid, when the request
// was decoded. Every request gets its own, which no other request sees
// change; Clone it for another goroutine that writes. The credential fields
// are tagged `json:"-"`: encode them deliberately if a client must see one.
type Session struct {
	// ID identifies the session: random for a cookie session, the "sid"
	// claim for a bearer one.
	ID string `json:"id,omitempty"`
	// Status is computed against Config.Now when the request is decoded.
	Status Status `json:"status"`
	// Source is the credential the session was read from.
	Source Source `json:"source"`

	// SignIn is the active sign-in, read through promoted fields (s.User,
	// s.AccessToken); s.SignIn.ID names it, s.SignIn.CreatedAt dates it. A
	// bearer session has no sign-in ID; its AccessToken is the JWT.
	SignIn

	// CreatedAt is when the session was created (a bearer JWT's iat).
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// LastActiveAt is when the session last recorded activity.
	LastActiveAt time.Time `json:"lastActiveAt,omitzero"`
	// ExpireAt is when the session stops being active (Auth.js's "expires",
	// a bearer JWT's exp); with an idle timeout it slides up to AbandonAt.
	ExpireAt time.Time `json:"expireAt,omitzero"`
	// AbandonAt is the end of the session's absolute lifetime.
	AbandonAt time.Time `json:"abandonAt,omitzero"`

	// JWT is the raw JWT a bearer or JWT-cookie session was read from.
	JWT string `json:"-"`
	// JWTPayload carries JWT's verified claims into JSON; read and change
	// them with Claims, replace them with SetClaims.
	JWTPayload claimsField `json:"jwtPayload,omitzero"`

	// Error records a token problem that kept the session, such as Auth.js's
	// "RefreshAccessTokenError" after a failed refresh.
	Error string `json:"error,omitempty"`

	// OtherSignIns are the inactive sign-ins of a browser signed in to
	// several accounts (AddSignIn), each with its own tokens and scope;
	// SwitchSignIn activates one.
	OtherSignIns []SignIn `json:"otherSignIns,omitempty"`

	// activeAt places SignIn in order: OtherSignIns[:activeAt], SignIn, rest.
	activeAt int
}

// SignIns returns copies of all the session's sign-ins, in the order they
// signed in; none for a bearer session.
func (s *Session) SignIns() []SignIn {
	if s == nil || s.SignIn.ID == "" {
		return nil
	}
	at := min(max(s.activeAt, 0), len(s.OtherSignIns))
	return slices.Concat(s.OtherSignIns[:at], []SignIn{s.SignIn}, s.OtherSignIns[at:])
}

// setSignIns makes all[active] the SignIn and the others OtherSignIns.
func (s *Session) setSignIns(all []SignIn, active int) {
	s.SignIn = all[active]
	s.OtherSignIns = slices.Concat(all[:active], all[active+1:])
	s.activeAt = active
}

// Claims returns the verified claims of a bearer or JWT-cookie session's
// JWT, nil for a cookie session. The map is this Session's own to change; a
// cached session copies it on the first call (once, even from several
// goroutines), so a handler that never reads the claims never pays for it.
func (s *Session) Claims() map[string]any {
	if s == nil || s.JWTPayload.b == nil {
		return nil
	}
	return s.JWTPayload.b.Get()
}

// SetClaims replaces the session's claims with m, which the Session then
// owns (not copied): for building a Session by hand, as a test or a
// Config.Bearer.SessionFromClaims hook may.
func (s *Session) SetClaims(m map[string]any) {
	s.JWTPayload.b = claimbox.Owned(m)
}

// claimsField is Session.JWTPayload, JSON-encoded as the claims object.
// A shallow copy of a Session shares it; Clone gives the copy its own.
type claimsField struct{ b *claimbox.Box }

// IsZero reports whether there are no claims (for `json:",omitzero"`).
func (c claimsField) IsZero() bool { return c.b == nil }

// MarshalJSON encodes the claims as a JSON object.
func (c claimsField) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.b.Peek())
}

// UnmarshalJSON decodes a JSON object of claims (null: none).
func (c *claimsField) UnmarshalJSON(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	c.b = claimbox.Owned(m)
	return nil
}

// Clone returns a deep copy of s (its claims copied lazily, see Claims).
func (s *Session) Clone() *Session {
	if s == nil {
		return nil
	}
	var c *Session
	if s.JWTPayload.b != nil {
		// One allocation for the session and its claims: a bearer session.
		b := &sessionWithClaims{Session: *s}
		s.JWTPayload.b.CloneInto(&b.claims)
		b.Session.JWTPayload.b = &b.claims
		c = &b.Session
	} else {
		cp := *s
		c = &cp
	}
	c.Actor = cloneActor(s.Actor)
	if s.OtherSignIns != nil {
		c.OtherSignIns = slices.Clone(s.OtherSignIns)
		for i := range c.OtherSignIns {
			c.OtherSignIns[i].Actor = cloneActor(c.OtherSignIns[i].Actor)
		}
	}
	return c
}

// sessionWithClaims lets Clone allocate a session and its claims at once.
type sessionWithClaims struct {
	Session
	claims claimbox.Box
}

func cloneActor(a *Actor) *Actor {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// strings lists u's string fields.
func (u *User) strings() [8]*string {
	return [...]*string{&u.ID, &u.Name, &u.Email, &u.Image, &u.FirstName, &u.LastName, &u.Username, &u.PhoneNumber}
}

// hasSignIn reports whether the session holds the sign-in id.
func (s *Session) hasSignIn(id string) bool {
	return id != "" && (s.SignIn.ID == id || slices.ContainsFunc(s.OtherSignIns, func(in SignIn) bool { return in.ID == id }))
}

// ended are the sign-ins of held, s's when active, that s no longer holds
// active; none when replaced: the new session may share their grants.
func (s *Session) ended(held []SignIn) []SignIn {
	return slices.DeleteFunc(held, func(in SignIn) bool {
		return s.Status == StatusReplaced || (s.Status == StatusActive && s.hasSignIn(in.ID))
	})
}

// validSignIns reports ErrInvalidSession unless every sign-in has its own ID.
func (s *Session) validSignIns() error {
	all := s.SignIns()
	if len(all) == 0 {
		return fmt.Errorf("%w: no active sign-in", ErrInvalidSession)
	}
	for i, in := range all {
		if in.ID == "" || slices.ContainsFunc(all[:i], func(o SignIn) bool { return o.ID == in.ID }) {
			return fmt.Errorf("%w: sign-in IDs must be non-empty and distinct", ErrInvalidSession)
		}
	}
	return nil
}

// checkSignIns reports ErrSessionTooLarge past maxSignIns.
func (s *Session) checkSignIns() error {
	if 1+len(s.OtherSignIns) > maxSignIns {
		return fmt.Errorf("%w: more than %d sign-ins", ErrSessionTooLarge, maxSignIns)
	}
	return nil
}

// switchTo activates the sign-in id, and reports whether there is one.
func (s *Session) switchTo(id string) bool {
	all := s.SignIns()
	i := slices.IndexFunc(all, func(in SignIn) bool { return in.ID == id })
	if i < 0 || id == "" {
		return false
	}
	s.setSignIns(all, i)
	return true
}

// dropSignIns removes the sign-ins drop matches, unless none or all, the
// first one left becoming active if needed, and counts dropped and left.
func (s *Session) dropSignIns(drop func(*SignIn) bool) (dropped, left int) {
	all := s.SignIns()
	active := s.SignIn.ID
	kept := slices.DeleteFunc(all, func(in SignIn) bool { return drop(&in) })
	dropped, left = 1+len(s.OtherSignIns)-len(kept), len(kept)
	if dropped == 0 || left == 0 {
		return dropped, left
	}
	s.setSignIns(kept, max(slices.IndexFunc(kept, func(in SignIn) bool { return in.ID == active }), 0))
	return dropped, left
}

// statusAt is s's status at now; those only a Store records are kept.
func statusAt(s *Session, now time.Time) Status {
	switch s.Status {
	case StatusEnded, StatusRemoved, StatusReplaced, StatusRevoked:
		return s.Status
	}
	if !s.AbandonAt.IsZero() && !now.Before(s.AbandonAt) {
		return StatusExpired
	}
	if !s.ExpireAt.IsZero() && !now.Before(s.ExpireAt) {
		if s.AbandonAt.IsZero() || s.ExpireAt.Before(s.AbandonAt) {
			return StatusAbandoned
		}
		return StatusExpired
	}
	return StatusActive
}
