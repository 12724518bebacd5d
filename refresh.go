package sessionkit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// RefreshAccessTokenError is the Session.Error recorded when refreshing the
// access token failed (Auth.js's name for it).
const RefreshAccessTokenError = "RefreshAccessTokenError"

// Errors a failed refresh reports to OnAccessTokenError, inside a
// *TokenError.
var (
	// ErrRefreshFailed: the refresh did not succeed. Every refresh error
	// matches it.
	ErrRefreshFailed = errors.New("sessionkit: access token refresh failed")
	// ErrRefreshTokenInvalid: the provider refused the refresh token
	// (invalid_grant): it was revoked, expired or already used, so it is
	// dropped from the session and never sent again. The user must sign in
	// again to get a new one.
	ErrRefreshTokenInvalid = errors.New("sessionkit: refresh token refused by the provider")
)

const (
	// refreshGrace is how long the outcome of a refresh is kept for
	// requests that still carry the refresh token it used: they take the
	// new tokens instead of sending a rotated-out token again.
	refreshGrace = 30 * time.Second
	// refreshBackoffMin and refreshBackoffMax bound the pause after a
	// transient refresh failure before the same refresh token is tried
	// again; the pause doubles with each failure in a row.
	refreshBackoffMin = 2 * time.Second
	refreshBackoffMax = time.Minute
	// maxRefreshEntries caps the outcomes kept in memory.
	maxRefreshEntries = 10000
)

// refresher runs refreshes: one at a time per refresh token, shared by
// every request that needs it, remembered for refreshGrace afterwards. It
// is safe for concurrent use.
type refresher struct {
	m      *Manager
	flight singleflight.Group

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*refreshEntry
}

// refreshEntry is the outcome of the last refresh of one refresh token.
type refreshEntry struct {
	res      *refreshResult // nil after a failure
	err      error          // the failure
	failures int            // transient failures in a row
	// until ends the grace window of a success or a refused token, and the
	// backoff of a transient failure.
	until time.Time
}

// refreshResult is a successful refresh: the provider's new tokens, and the
// user as the new ID token describes it.
type refreshResult struct {
	token    *oauth2.Token
	issuedAt time.Time
	idToken  string
	idExp    time.Time
	user     *User // from the new ID token; nil without one
	updated  atomic.Bool
}

func newRefresher(m *Manager) *refresher {
	return &refresher{m: m, entries: map[[sha256.Size]byte]*refreshEntry{}}
}

// refreshDue reports whether s should be refreshed at now: an active cookie
// session with a refresh token whose access token expires within the
// effective leeway.
func (m *Manager) refreshDue(s *Session, now time.Time) bool {
	if m.cfg.RefreshLeeway < 0 || s.RefreshToken == "" || s.AccessTokenExpiresAt.IsZero() ||
		s.Source != SourceCookie || s.Status != StatusActive {
		return false
	}
	if m.findProvider(s.Provider) == nil {
		return false // not refreshable here; OnAccessTokenExpired tells when it lapses
	}
	leeway := m.cfg.RefreshLeeway
	if i := s.activeSignIn(); i >= 0 {
		if issued := s.SignIns[i].AccessTokenIssuedAt; !issued.IsZero() {
			if half := s.AccessTokenExpiresAt.Sub(issued) / 2; half < leeway {
				leeway = max(half, 0)
			}
		}
	}
	return !now.Before(s.AccessTokenExpiresAt.Add(-leeway))
}

// refresh refreshes the access token of d's session, which refreshDue
// accepted, and updates d: the session's tokens on success, its Error on
// failure, and whether the cookie must be re-written. It never fails the
// request.
func (rf *refresher) refresh(ctx context.Context, d *decoded) {
	s := d.session
	key := sha256.Sum256([]byte(s.Provider + "\x00" + s.RefreshToken))
	now := rf.m.cfg.Now()

	if e := rf.recent(key, now); e != nil {
		if e.res != nil { // refreshed a moment ago: take its tokens
			rf.apply(d, e.res)
		} else { // failed a moment ago: do not ask the provider again yet
			rf.fail(d, e.err, false)
		}
		return
	}
	ch := rf.flight.DoChan(string(key[:]), func() (any, error) {
		// A flight that ended between recent and DoChan has recorded its
		// outcome: use it rather than send a rotated-out token again.
		if e := rf.recent(key, rf.m.cfg.Now()); e != nil {
			return e.res, e.err
		}
		return rf.run(key, s)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			rf.fail(d, r.Err, true)
			return
		}
		rf.apply(d, r.Val.(*refreshResult))
	case <-ctx.Done():
		// The client gave up; the refresh goes on for the others. This
		// request keeps the session it has and writes nothing.
	}
}

// recent returns the outcome recorded for key that still applies at now: a
// success within the grace window, or a failure before its retry time.
func (rf *refresher) recent(key [sha256.Size]byte, now time.Time) *refreshEntry {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	e := rf.entries[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.until) {
		if e.res != nil || e.failures == 0 {
			delete(rf.entries, key) // a failed entry is kept to count failures in a row
		}
		return nil
	}
	return e
}

// run performs one refresh, detached from any request's context, and
// records its outcome.
func (rf *refresher) run(key [sha256.Size]byte, s *Session) (*refreshResult, error) {
	m := rf.m
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.RefreshTimeout)
	defer cancel()
	res, err := m.exchangeRefreshToken(ctx, s)
	now := m.cfg.Now()

	rf.mu.Lock()
	defer rf.mu.Unlock()
	prev := rf.entries[key]
	e := &refreshEntry{res: res, err: err, until: now.Add(refreshGrace)}
	if err != nil && !errors.Is(err, ErrRefreshTokenInvalid) {
		e.failures = 1
		if prev != nil && prev.res == nil {
			e.failures = prev.failures + 1
		}
		e.until = now.Add(min(refreshBackoffMin<<min(e.failures-1, 10), refreshBackoffMax))
	}
	if len(rf.entries) >= maxRefreshEntries {
		for k, old := range rf.entries {
			if now.After(old.until) {
				delete(rf.entries, k)
			}
		}
		for k := range rf.entries { // still full: make room
			if len(rf.entries) < maxRefreshEntries {
				break
			}
			delete(rf.entries, k)
		}
	}
	rf.entries[key] = e
	return res, err
}

// exchangeRefreshToken asks s's provider for new tokens and verifies a new
// ID token.
func (m *Manager) exchangeRefreshToken(ctx context.Context, s *Session) (*refreshResult, error) {
	p, err := m.provider(s.Provider)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	conf := rp.oauth2
	current := &oauth2.Token{AccessToken: s.AccessToken, TokenType: s.TokenType, RefreshToken: s.RefreshToken, Expiry: s.AccessTokenExpiresAt}
	octx := m.oauthContext(ctx)
	var tok *oauth2.Token
	if p.cfg.Refresh != nil {
		ok := m.safely(ctx, "Provider.Refresh", func() { tok, err = p.cfg.Refresh(octx, &conf, current) })
		if !ok && err == nil {
			err = errors.New("Provider.Refresh panicked")
		}
	} else {
		tok, err = conf.TokenSource(octx, &oauth2.Token{RefreshToken: s.RefreshToken}).Token()
	}
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, ErrRefreshTokenInvalid)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrRefreshFailed, s.Provider, redactRetrieveError(err))
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: %s: the token response holds no access token", ErrRefreshFailed, s.Provider)
	}
	res := &refreshResult{token: tok, issuedAt: m.cfg.Now().UTC().Truncate(time.Second)}
	if res.token.RefreshToken == "" { // the provider does not rotate: keep the old one
		res.token = cloneToken(tok)
		res.token.RefreshToken = s.RefreshToken
	}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		// OpenID Connect Core 12.2: the new ID token is verified as at
		// sign-in (without a nonce) and must name the same subject.
		user, exp, err := m.verifyIDToken(ctx, s.Provider, raw, "")
		if err == nil && user.ID != s.User.ID {
			err = fmt.Errorf("%w: the refreshed ID token names another subject", ErrInvalidIDToken)
		}
		if err != nil {
			m.fireErr(ctx, "OnIdTokenError", m.cfg.Callbacks.OnIdTokenError, err)
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		}
		res.idToken, res.idExp, res.user = raw, exp, &user
	}
	return res, nil
}

// redactRetrieveError drops the response body an *oauth2.RetrieveError
// quotes in its message, which may echo credentials.
func redactRetrieveError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := "no response"
	if re.Response != nil {
		status = re.Response.Status
	}
	if re.ErrorCode != "" {
		return fmt.Errorf("token endpoint: %s: %s", status, re.ErrorCode)
	}
	return fmt.Errorf("token endpoint: %s", status)
}

func cloneToken(t *oauth2.Token) *oauth2.Token {
	c := *t
	return &c
}

// apply puts the refreshed tokens into d's session and marks it for
// re-issue. OnSessionUpdate fires for the first request that applies res.
func (rf *refresher) apply(d *decoded, res *refreshResult) {
	s := d.session
	tok := res.token
	s.AccessToken = tok.AccessToken
	s.TokenType = tok.Type()
	s.AccessTokenExpiresAt = tok.Expiry.UTC()
	s.RefreshToken = tok.RefreshToken
	if res.idToken != "" {
		s.IDToken, s.IDTokenExpiresAt = res.idToken, res.idExp
		mergeUser(&s.User, res.user)
	}
	s.Error = ""
	if i := s.activeSignIn(); i >= 0 {
		s.SignIns[i].AccessTokenIssuedAt = res.issuedAt
	}
	d.reissue = true
	if res.updated.CompareAndSwap(false, true) {
		d.updated = true
	}
}

// fail records a failed refresh on d's session. A refused refresh token is
// dropped so that it is never sent again; after a transient failure it is
// kept and tried again once the backoff has passed. write says whether the
// cookie is re-written (by the request that saw the failure happen).
func (rf *refresher) fail(d *decoded, err error, write bool) {
	s := d.session
	s.Error = RefreshAccessTokenError
	if errors.Is(err, ErrRefreshTokenInvalid) {
		s.RefreshToken = ""
		write = true // a dead token must not stay in the cookie
	}
	d.refreshErr = err
	if write {
		d.reissue = true
	}
}
