package sessionkit

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/store"
)

// Bounds of tickets.
const (
	defaultTicketTTL = 5 * time.Minute
	maxTicketTTL     = time.Hour
	maxTicketLen     = 4096
	// ticketName is what tickets are sealed under: their keys are derived
	// from it and it is authenticated, so no cookie sealed with the same
	// Config.Keys passes for a ticket (no cookie name holds a space).
	ticketName = "sessionkit ticket"
)

// ErrInvalidTicket means a ticket cannot be redeemed: it is malformed,
// forged, sealed with keys no longer configured, expired, or already used
// (tickets are single use); the error's message says which.
var ErrInvalidTicket = errors.New("sessionkit: invalid ticket")

var (
	errTicketExpired = fmt.Errorf("%w: expired", ErrInvalidTicket)
	errTicketUsed    = fmt.Errorf("%w: already used", ErrInvalidTicket)
)

// TicketParams describes the session a ticket starts.
type TicketParams struct {
	// User is the user to sign in; User.ID is required.
	User User
	// Actor, when set, makes it an impersonation ticket: its session
	// carries Session.Actor, its tokens the "act" claim, and the exchange
	// is audit-logged.
	Actor *Actor
	// OrganizationID and WorkspaceID set the session's initial scope.
	OrganizationID, WorkspaceID string
	// TTL is how long the ticket may be redeemed. Default 5 min; at most 1 h.
	TTL time.Duration
}

// ticketPayload is what a ticket seals.
type ticketPayload struct {
	V     int    `json:"v"`
	JTI   string `json:"jti"`
	User  User   `json:"user"`
	Actor *Actor `json:"act,omitempty"`
	Org   string `json:"org,omitempty"`
	WS    string `json:"ws,omitempty"`
	IAT   int64  `json:"iat"`
	EXP   int64  `json:"exp"`
}

// MintTicket returns a one-time ticket that ExchangeTicket (or POST
// {BasePath}/exchange) redeems for a new session of p.User: a sign-in
// link, a hand-off between domains of one application, or impersonation
// (p.Actor, audit-logged). The ticket is sealed with Config.Keys and is a
// bearer credential until redeemed or expired: send it only over TLS and
// never log it. The Store enforces single use, so it must record one-time
// keys (store.Consumer); otherwise the error wraps ErrNotConfigured.
func (m *Manager) MintTicket(ctx context.Context, p TicketParams) (string, error) {
	if _, err := m.ticketConsumer(); err != nil {
		return "", err
	}
	if p.User.ID == "" {
		return "", fmt.Errorf("%w: TicketParams.User.ID is required", ErrInvalidSession)
	}
	if p.Actor != nil && p.Actor.Subject == "" {
		return "", fmt.Errorf("%w: TicketParams.Actor.Subject is required", ErrInvalidSession)
	}
	ttl := cmp.Or(p.TTL, defaultTicketTTL)
	if ttl < 0 || ttl > maxTicketTTL {
		return "", fmt.Errorf("sessionkit: TicketParams.TTL must be between 0 and %s, got %s", maxTicketTTL, ttl)
	}
	now := m.cfg.Now()
	pl := ticketPayload{V: 1, JTI: rand.Text(), User: p.User, Actor: cloneActor(p.Actor), Org: p.OrganizationID, WS: p.WorkspaceID,
		IAT: now.Unix(), EXP: now.Add(ttl).Unix()}
	t, err := m.cookies.tickets.SealJSON(pl, maxTicketLen)
	if err != nil {
		return "", fmt.Errorf("sessionkit: sealing a ticket: %w", err)
	}
	if p.Actor != nil {
		m.cfg.Logger.InfoContext(ctx, "sessionkit: impersonation ticket minted", "actor", p.Actor.Subject, "user", p.User.ID, "ttl", ttl.String())
	}
	return t, nil
}

// ticketConsumer is the Store that records redeemed tickets, which needs
// cookie keys to seal them.
func (m *Manager) ticketConsumer() (store.Consumer, error) {
	if m.cookies == nil {
		return nil, errCookiesDisabled
	}
	return capability[store.Consumer](m.cfg.Store, "Consumer")
}

// openTicket authenticates, decrypts with c and checks the expiry of
// ticket, allowing the library's clock skew between instances.
func openTicket(c *cookieCodec, ticket string, now time.Time) (ticketPayload, error) {
	var pl ticketPayload
	if c.tickets.OpenJSON(ticket, maxTicketLen, &pl) != nil || pl.V != 1 || pl.JTI == "" || pl.User.ID == "" {
		return pl, ErrInvalidTicket
	}
	if !now.Before(time.Unix(pl.EXP, 0).Add(defaultLeeway)) {
		return pl, errTicketExpired
	}
	return pl, nil
}

// exchangeTicket is ExchangeTicket, returning the cookie to write.
func (m *Manager) exchangeTicket(r *http.Request, ticket string) (*Session, cookieWrite, error) {
	consumer, err := m.ticketConsumer()
	if err != nil {
		return nil, cookieWrite{}, err
	}
	ctx := r.Context()
	now := m.cfg.Now()
	pl, err := openTicket(m.cookies, ticket, now)
	if err != nil {
		return nil, cookieWrite{}, err
	}
	ttl := time.Unix(pl.EXP, 0).Add(defaultLeeway).Sub(now) + time.Second
	first, err := consumer.Consume(ctx, "ticket:"+pl.JTI, ttl)
	if err != nil {
		return nil, cookieWrite{}, storeErr(err)
	}
	if !first {
		m.cfg.Logger.WarnContext(ctx, "sessionkit: a used ticket was presented again", "user", pl.User.ID)
		return nil, cookieWrite{}, errTicketUsed
	}
	user := pl.User
	s, cw, err := m.verbs.signIn(r, SignInParams{User: &user, Provider: "ticket", Actor: pl.Actor, OrganizationID: pl.Org, WorkspaceID: pl.WS})
	if err != nil {
		return nil, cw, err
	}
	m.hooks.obs.TicketRedeemed(ctx)
	if pl.Actor != nil {
		m.cfg.Logger.InfoContext(ctx, "sessionkit: impersonation session started", "actor", pl.Actor.Subject, "user", pl.User.ID)
	}
	return s, cw, nil
}
