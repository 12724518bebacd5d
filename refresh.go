package sessionkit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
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
	// refreshGrace is the least time the outcome of a refresh is kept for
	// requests that still carry the refresh token it used: they take the
	// new tokens instead of sending a rotated-out token again. A success
	// is kept as long as the new access token lives, up to refreshMemory.
	refreshGrace  = 30 * time.Second
	refreshMemory = 24 * time.Hour
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
	entries map[refreshKey]*refreshEntry
	closed  bool
	wg      sync.WaitGroup // running refreshes
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
	idErr    error // the new ID token was refused; the old one is kept
	updated  atomic.Bool
}

func newRefresher(m *Manager) *refresher {
	return &refresher{m: m, entries: map[refreshKey]*refreshEntry{}}
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
	if issued := s.AccessTokenIssuedAt; !issued.IsZero() {
		if half := s.AccessTokenExpiresAt.Sub(issued) / 2; half < leeway {
			leeway = max(half, 0)
		}
	}
	return !now.Before(s.AccessTokenExpiresAt.Add(-leeway))
}

// refreshInput is what a refresh needs of a session, copied so that the
// refresh never reads a session a handler may be changing.
type refreshInput struct {
	provider     string
	refreshToken string
	accessToken  string
	tokenType    string
	expiry       time.Time
	userID       string
}

type refreshKey [sha256.Size]byte

func keyOf(provider, refreshToken string) refreshKey {
	return sha256.Sum256([]byte(provider + "\x00" + refreshToken))
}

// errRefreshWait is reported to a request that stopped waiting for a
// refresh after RefreshTimeout.
var errRefreshWait = errors.New("the refresh did not finish within RefreshTimeout")

// errRefreshClosed is reported once the Manager is closed.
var errRefreshClosed = errors.New("the manager is closed")

// errSubjectChanged: the refreshed ID token names another user.
var errSubjectChanged = errors.New("the refreshed ID token names another subject")

// refresh refreshes the access token of d's session, which refreshDue
// accepted, and updates d: the session's tokens on success, its Error on
// failure, and whether the cookie must be re-written. It never fails the
// request, and it waits no longer than RefreshTimeout or the request's
// context.
func (rf *refresher) refresh(ctx context.Context, d *decoded) {
	in := refreshInputOf(d.session)
	key := keyOf(in.provider, in.refreshToken)
	if e := rf.latest(in.provider, key, rf.m.cfg.Now()); e != nil {
		if e.res != nil { // refreshed before: take the newest tokens
			rf.apply(d, e.res)
		} else { // failed a moment ago: do not ask the provider again yet
			rf.fail(d, e.err, false)
		}
		return
	}
	ch := rf.flight.DoChan(string(key[:]), func() (v any, err error) {
		// A flight that ended between latest and DoChan has recorded its
		// outcome: use it rather than send a rotated-out token again.
		if e := rf.latest(in.provider, key, rf.m.cfg.Now()); e != nil {
			return e.res, e.err
		}
		return rf.guard(func() (any, error) { return rf.run(key, in) })
	})
	r, timedOut := rf.await(ctx, ch)
	switch {
	case r != nil && r.Err != nil:
		rf.fail(d, r.Err, true)
	case r != nil:
		rf.apply(d, r.Val.(*refreshResult))
	case timedOut:
		// The refresh outlived its timeout (a hook or transport that does
		// not honour its context): go on without it, writing nothing.
		rf.fail(d, fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshWait), false)
	}
	// Otherwise the client gave up; the refresh goes on for the others.
	// This request keeps the session it has and writes nothing.
}

// refreshBackoff is how long to wait before trying again after failures
// transient refresh failures in a row (at least 1): refreshBackoffMin,
// doubling, up to refreshBackoffMax.
func refreshBackoff(failures uint64) time.Duration {
	return min(refreshBackoffMin<<min(failures-1, 10), refreshBackoffMax)
}

// refreshInputOf is what refreshing s needs of it.
func refreshInputOf(s *Session) refreshInput {
	return refreshInput{provider: s.Provider, refreshToken: s.RefreshToken, accessToken: s.AccessToken,
		tokenType: s.TokenType, expiry: s.AccessTokenExpiresAt, userID: s.User.ID}
}

// guard runs f as a refresh that Close waits for, and turns a panic (of a
// Config.Now, a hook or a transport) into an error rather than a crash.
func (rf *refresher) guard(f func() (any, error)) (v any, err error) {
	if !rf.begin() {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshClosed)
	}
	defer rf.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			rf.m.cfg.Logger.Error("sessionkit: refresh panicked", "panic_type", fmt.Sprintf("%T", p))
			v, err = nil, fmt.Errorf("%w: the refresh panicked", ErrRefreshFailed)
		}
	}()
	return f()
}

// await waits for a flight's result at most RefreshTimeout and until ctx
// ends. r is nil when it did not come; timedOut then says whether
// RefreshTimeout passed (rather than ctx ending).
func (rf *refresher) await(ctx context.Context, ch <-chan singleflight.Result) (r *singleflight.Result, timedOut bool) {
	timer := time.NewTimer(rf.m.cfg.RefreshTimeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		return &res, false
	case <-timer.C:
		return nil, true
	case <-ctx.Done():
		return nil, false
	}
}

// begin registers a running refresh for Close to wait for; it reports false
// once the refresher is closed.
func (rf *refresher) begin() bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.closed {
		return false
	}
	rf.wg.Add(1)
	return true
}

// close stops new refreshes and waits for the running ones, which the
// Manager's context has cancelled.
func (rf *refresher) close() {
	rf.mu.Lock()
	rf.closed = true
	rf.mu.Unlock()
	rf.wg.Wait()
}

// latest returns the outcome recorded for key that still applies at now,
// following a success to the outcome of the refresh token it returned, so
// that an old cookie gets the newest tokens, never a rotated-out one.
func (rf *refresher) latest(provider string, key refreshKey, now time.Time) *refreshEntry {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	e := rf.recentLocked(key, now)
	for hops := 0; e != nil && e.res != nil && hops < 16; hops++ {
		next := rf.recentLocked(keyOf(provider, e.res.token.RefreshToken), now)
		if next == nil || next.res == nil {
			break // the newest success; a newer failure is the newer token's own business
		}
		e = next
	}
	return e
}

// recentLocked returns the entry of key that still applies at now.
func (rf *refresher) recentLocked(key refreshKey, now time.Time) *refreshEntry {
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

// exchangeTimeout bounds a refresh exchange. It is longer than the
// requests' wait (RefreshTimeout): once the provider has rotated the
// refresh token, a late answer must still be recorded, or the next request
// would send the rotated-out token again.
func (m *Manager) exchangeTimeout() time.Duration {
	return max(m.cfg.FetchTimeout, 2*m.cfg.RefreshTimeout)
}

// permanent reports whether err means the refresh token must not be used
// again.
func permanent(err error) bool {
	return errors.Is(err, ErrRefreshTokenInvalid) || errors.Is(err, errSubjectChanged)
}

// run performs one refresh, detached from any request's context, and
// records its outcome. A success is remembered for as long as the new
// access token lives (at least refreshGrace), so that a request carrying a
// cookie from before the rotation, however late, gets the new tokens.
func (rf *refresher) run(key refreshKey, in refreshInput) (*refreshResult, error) {
	m := rf.m
	ctx, cancel := context.WithTimeout(m.ctx, m.exchangeTimeout())
	defer cancel()
	res, err := m.exchangeRefreshToken(ctx, in)
	now := m.cfg.Now()

	rf.mu.Lock()
	defer rf.mu.Unlock()
	prev := rf.entries[key]
	e := &refreshEntry{res: res, err: err, until: now.Add(refreshGrace)}
	switch {
	case err == nil:
		if exp := res.token.Expiry; exp.After(e.until) {
			e.until = exp
			if limit := now.Add(refreshMemory); limit.Before(exp) {
				e.until = limit
			}
		}
	case !permanent(err):
		e.failures = 1
		if prev != nil && prev.res == nil {
			e.failures = prev.failures + 1
		}
		e.until = now.Add(refreshBackoff(uint64(e.failures)))
	}
	if len(rf.entries) >= maxRefreshEntries {
		rf.pruneLocked(now)
	}
	rf.entries[key] = e
	return res, err
}

// pruneLocked makes room: expired entries first, then failures, then the
// successes closest to their end.
func (rf *refresher) pruneLocked(now time.Time) {
	for k, e := range rf.entries {
		if !now.Before(e.until) || e.res == nil {
			delete(rf.entries, k)
		}
	}
	for len(rf.entries) >= maxRefreshEntries {
		var oldest refreshKey
		var until time.Time
		n := 0
		for k, e := range rf.entries { // a sample of 8, as Redis evicts
			if n == 0 || e.until.Before(until) {
				oldest, until = k, e.until
			}
			if n++; n == 8 {
				break
			}
		}
		delete(rf.entries, oldest)
	}
}

// exchangeRefreshToken asks in's provider for new tokens and verifies a new
// ID token. Once the provider has answered with tokens, the old refresh
// token is spent: a new ID token that fails verification is reported in the
// result (idErr), not as a failure that would keep the old token.
func (m *Manager) exchangeRefreshToken(ctx context.Context, in refreshInput) (*refreshResult, error) {
	p, err := m.provider(in.provider)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	conf := rp.oauth2
	conf.Scopes = slices.Clone(conf.Scopes)
	current := &oauth2.Token{AccessToken: in.accessToken, TokenType: in.tokenType, RefreshToken: in.refreshToken, Expiry: in.expiry}
	octx := m.oauthContext(ctx)
	var tok *oauth2.Token
	if p.cfg.Refresh != nil {
		ok := m.safely(ctx, "Provider.Refresh", func() { tok, err = p.cfg.Refresh(octx, &conf, current) })
		if !ok && err == nil {
			err = errors.New("Provider.Refresh panicked")
		}
	} else {
		tok, err = conf.TokenSource(octx, &oauth2.Token{RefreshToken: in.refreshToken}).Token()
	}
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, ErrRefreshTokenInvalid)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrRefreshFailed, in.provider, redactRetrieveError(err))
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: %s: the token response holds no access token", ErrRefreshFailed, in.provider)
	}
	res := &refreshResult{token: tok, issuedAt: m.cfg.Now().UTC().Truncate(time.Second)}
	if res.token.RefreshToken == "" { // the provider does not rotate: keep the old one
		res.token = cloneToken(tok)
		res.token.RefreshToken = in.refreshToken
	}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		// OpenID Connect Core 12.2: the new ID token is verified as at
		// sign-in (without a nonce) and must name the same subject.
		user, exp, _, err := m.verifyIDToken(ctx, in.provider, raw, "")
		if err == nil && user.ID != in.userID {
			err = fmt.Errorf("%w: %w", ErrInvalidIDToken, errSubjectChanged)
		}
		if err != nil {
			m.fireErr(ctx, "OnIdTokenError", m.cfg.Callbacks.OnIdTokenError, err)
			if errors.Is(err, errSubjectChanged) {
				// Tokens for someone else: use none of them.
				return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
			}
			res.idErr = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
			return res, nil
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
	if res.idErr != nil { // new tokens, but the new ID token was refused: the old one stays
		s.Error = RefreshAccessTokenError
		d.refreshErr = res.idErr
	}
	s.AccessTokenIssuedAt = res.issuedAt
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
	if permanent(err) {
		s.RefreshToken = ""
		write = true // a dead token must not stay in the cookie
	}
	d.refreshErr = err
	if write {
		d.reissue = true
	}
}
