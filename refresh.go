package sessionkit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/refresh"
	"github.com/sessionkit/sessionkit/store"
)

// RefreshAccessTokenError is the Session.Error recorded when refreshing the
// access token failed (Auth.js's name for it).
const RefreshAccessTokenError = "RefreshAccessTokenError"

// Errors a failed refresh reports to OnAccessTokenError.
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
	// refreshPoll is how often an instance that lost the refresh lock
	// looks for the winner's result.
	refreshPoll = 20 * time.Millisecond
	// lockSlack is how much longer than the exchange timeout the refresh lock
	// lives: the winner saves after the token endpoint answered.
	lockSlack = 10 * time.Second
)

// errRefreshRecorded is reported to OnAccessTokenError for a refresh
// failure that an earlier request recorded in the session.
var errRefreshRecorded = fmt.Errorf("%w: recorded in the session by an earlier request", ErrRefreshFailed)

// errRefreshWait is reported to a request that stopped waiting for a
// refresh after RefreshTimeout.
var errRefreshWait = errors.New("the refresh did not finish within RefreshTimeout")

// errSubjectChanged: the refreshed ID token names another user.
var errSubjectChanged = errors.New("the refreshed ID token names another subject")

// refresher runs the refreshes of a Manager's sessions on the mechanisms of
// internal/refresh: one flight per refresh token (cookie sessions) or per
// stored session, and the outcomes of recent exchanges. It is safe for
// concurrent use.
type refresher struct {
	ctx   context.Context // the Manager's: ends at Close
	now   func() time.Time
	log   *slog.Logger
	hooks *hooks
	// leeway is Config.RefreshLeeway; exchange bounds one exchange with
	// the provider (see exchangeTimeout).
	leeway, exchange time.Duration
	providers        providerLookup
	// oauthContext carries the Manager's HTTP client to x/oauth2.
	oauthContext func(context.Context) context.Context
	sessions     *storedSessions

	cookies *refresh.Group[*refreshResult]
	stored  *refresh.Group[*storedResult]
	memory  *refresh.Memory[*refreshResult]
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

// newRefresher returns the refresher of m's settings.
func newRefresher(m *Manager) *refresher {
	log := m.cfg.Logger
	onPanic := func(p any) {
		log.Error("sessionkit: refresh panicked", "panic_type", fmt.Sprintf("%T", p))
	}
	rf := &refresher{
		ctx: m.ctx, now: m.cfg.Now, log: log, hooks: m.hooks,
		leeway: m.cfg.RefreshLeeway, exchange: exchangeTimeout(m.cfg.FetchTimeout, m.cfg.RefreshTimeout),
		providers: m.findProvider, oauthContext: m.oauthContext, sessions: m.stored,
		cookies: refresh.NewGroup[*refreshResult](m.cfg.RefreshTimeout, onPanic),
		stored:  refresh.NewGroup[*storedResult](m.cfg.RefreshTimeout, onPanic),
		memory:  refresh.NewMemory[*refreshResult](refresh.DefaultCapacity),
	}
	return rf
}

// close stops new refreshes and waits for the running ones, which the
// Manager's context has cancelled.
func (rf *refresher) close() {
	rf.cookies.Close()
	rf.stored.Close()
}

// wait blocks until the refreshes running now have ended.
func (rf *refresher) wait() {
	rf.cookies.Wait()
	rf.stored.Wait()
}

// due reports whether s should be refreshed at now: an active cookie
// session with a refresh token whose access token expires within the
// effective leeway.
func (rf *refresher) due(s *Session, now time.Time) bool {
	if rf.leeway < 0 || s.RefreshToken == "" || s.AccessTokenExpiresAt.IsZero() ||
		s.Source != SourceCookie || s.Status != StatusActive {
		return false
	}
	if rf.providers(s.Provider) == nil {
		return false // not refreshable here; OnAccessTokenExpired tells when it lapses
	}
	leeway := rf.leeway
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

// refreshInputOf is what refreshing s needs of it.
func refreshInputOf(s *Session) refreshInput {
	return refreshInput{provider: s.Provider, refreshToken: s.RefreshToken, accessToken: s.AccessToken,
		tokenType: s.TokenType, expiry: s.AccessTokenExpiresAt, userID: s.User.ID}
}

// key is the refresh token's key in the flights and the memory.
func (in refreshInput) key() refresh.Key { return refresh.KeyOf(in.provider, in.refreshToken) }

// refresh refreshes the access token of d's cookie session, which
// refreshDue accepted, and updates d: the session's tokens on success, its
// Error on failure, and whether the cookie must be re-written. It never
// fails the request, and it waits no longer than RefreshTimeout or the
// request's context.
func (rf *refresher) refresh(ctx context.Context, d *decoded) {
	in := refreshInputOf(d.session)
	key := in.key()
	if o, ok := rf.memory.Latest(key, rf.now()); ok {
		if o.Err == nil { // refreshed before: take the newest tokens
			rf.apply(d, o.Value)
		} else { // failed a moment ago: do not ask the provider again yet
			rf.fail(d, o.Err, false)
		}
		return
	}
	res, err := rf.cookies.Do(ctx, string(key[:]), func() (*refreshResult, error) {
		// A flight that ended between Latest and Do has recorded its
		// outcome: use it rather than send a rotated-out token again.
		if o, ok := rf.memory.Latest(key, rf.now()); ok {
			return o.Value, o.Err
		}
		return rf.run(key, in)
	})
	switch {
	case errors.Is(err, refresh.ErrAbandoned):
		// The client gave up; the refresh goes on for the others. This
		// request keeps the session it has and writes nothing.
	case errors.Is(err, refresh.ErrWaitTimeout):
		// The refresh outlived its timeout (a hook or transport that does
		// not honour its context): go on without it, writing nothing.
		rf.fail(d, fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshWait), false)
	case err != nil:
		rf.fail(d, refreshFailed(err), true)
	default:
		rf.apply(d, res)
	}
}

// refreshFailed returns err as a refresh error: wrapping ErrRefreshFailed.
func refreshFailed(err error) error {
	if errors.Is(err, ErrRefreshFailed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRefreshFailed, err)
}

// exchangeTimeout bounds a refresh exchange. It is longer than the
// requests' wait (RefreshTimeout): once the provider has rotated the
// refresh token, a late answer must still be recorded, or the next request
// would send the rotated-out token again.
func exchangeTimeout(fetch, wait time.Duration) time.Duration {
	return max(fetch, 2*wait)
}

// permanent reports whether err means the refresh token must not be used
// again.
func permanent(err error) bool {
	return errors.Is(err, ErrRefreshTokenInvalid) || errors.Is(err, errSubjectChanged)
}

// run performs one refresh, detached from any request's context, and
// records its outcome. A success is remembered for as long as the new
// access token lives (at least refresh.Grace), so that a request carrying a
// cookie from before the rotation, however late, gets the new tokens.
func (rf *refresher) run(key refresh.Key, in refreshInput) (*refreshResult, error) {
	ctx, cancel := context.WithTimeout(rf.ctx, rf.exchange)
	defer cancel()
	res, err := rf.exchangeRefreshToken(ctx, in)
	now := rf.now()
	if err != nil {
		rf.memory.Failed(key, err, permanent(err), now)
		return nil, err
	}
	next := refresh.KeyOf(in.provider, res.token.RefreshToken)
	rf.memory.Succeeded(key, res, next, res.token.Expiry, now)
	return res, nil
}

// storedResult is the outcome of one store-backed refresh flight.
type storedResult struct {
	session    *Session // shared by the waiters: cloned before use
	st         storeState
	refreshErr error
	fresh      bool // this flight refreshed the tokens
	updated    atomic.Bool
}

// storedDue is due for a stored session, which also waits out the
// backoff after a transient failure, whichever instance saw it.
func (rf *refresher) storedDue(s *Session, st *storeState, now time.Time) bool {
	return rf.due(s, now) && !now.Before(st.meta.RetryAt)
}

// refreshStored refreshes the stored session of d once across every
// instance sharing the Store: in this process, concurrent requests of the
// session share one flight; across processes, the flight that takes the
// Store's lock of the refresh token refreshes and saves, and the others poll the
// Store until they see its result. Each request waits at most
// RefreshTimeout and until its context ends.
func (rf *refresher) refreshStored(ctx context.Context, d *decoded) {
	s := d.session
	in := refreshInputOf(s)
	id := d.st.id
	res, err := rf.stored.Do(ctx, id, func() (*storedResult, error) { return rf.runStored(id, in) })
	switch {
	case errors.Is(err, refresh.ErrAbandoned):
		// The client gave up; the refresh goes on for the others.
	case errors.Is(err, refresh.ErrWaitTimeout):
		s.Error = RefreshAccessTokenError
		d.refreshErr = fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshWait)
	case err != nil:
		s.Error = RefreshAccessTokenError
		d.refreshErr = refreshFailed(err)
	case res.st.id != id:
		// The session moved to a new ID (a privilege change) while this
		// request waited: its cookie, of before the move, never reaches
		// the moved session nor gets its cookie (see decodeMovedCookie).
		d.session, d.shared, d.st, d.reissue = nil, false, nil, false
		d.err = ErrNoSession
	default:
		adoptStored(d, res)
	}
}

// adoptStored puts the outcome of a store-backed refresh flight into d: a
// copy of the saved session, and whether its cookie must be re-issued.
func adoptStored(d *decoded, res *storedResult) {
	cookieGen := d.st.cookieGen
	st := res.st
	st.cookieGen = cookieGen
	d.session, d.shared, d.st = res.session.Clone(), false, &st
	d.refreshErr = res.refreshErr
	if st.meta.Gen != cookieGen {
		d.reissue = true
	}
	if res.fresh && res.updated.CompareAndSwap(false, true) {
		d.updated = true
	}
}

// runStored takes the refresh lock or waits for its holder's result.
func (rf *refresher) runStored(id string, in refreshInput) (*storedResult, error) {
	ctx, cancel := context.WithTimeout(rf.ctx, rf.exchange)
	defer cancel()
	// The lock is the refresh token's, not the session ID's: a session
	// that moves to a new ID mid-refresh keeps its refresh token, which
	// must still be exchanged once.
	key := in.key()
	lockKey := "refresh:" + hex.EncodeToString(key[:])
	for {
		unlock, err := rf.sessions.lock(ctx, lockKey, rf.exchange+lockSlack)
		if err == nil {
			res, err := rf.refreshLocked(ctx, id, in)
			uctx, ucancel := context.WithTimeout(rf.ctx, saveTimeout)
			_ = unlock(uctx)
			ucancel()
			return res, err
		}
		if !errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, storeErr(err))
		}
		// Another instance refreshes: wait for its result.
		if res, _, err := rf.refreshedElsewhere(ctx, id, in); res != nil || err != nil {
			return res, err
		}
		t := time.NewTimer(refreshPoll + rand.N(refreshPoll))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshWait)
		}
	}
}

// refreshedElsewhere loads session id and returns it as the outcome when
// in's refresh token no longer needs exchanging: another instance refreshed
// it, or the session is over. While the refresh is still due, it returns
// no outcome but the session as loaded.
func (rf *refresher) refreshedElsewhere(ctx context.Context, id string, in refreshInput) (*storedResult, loaded, error) {
	s, st, err := rf.sessions.load(ctx, id, true)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	now := rf.now()
	s.Status = statusAt(s, now)
	if s.Status != StatusActive || s.RefreshToken != in.refreshToken || !rf.storedDue(s, st, now) {
		return &storedResult{session: s, st: *st}, loaded{}, nil
	}
	return nil, loaded{s, st}, nil
}

// refreshLocked refreshes session id while holding its refresh lock, unless
// the record shows that someone already did, and saves the outcome.
func (rf *refresher) refreshLocked(ctx context.Context, id string, in refreshInput) (*storedResult, error) {
	done, cur, err := rf.refreshedElsewhere(ctx, id, in)
	if done != nil || err != nil {
		return done, err
	}
	res, xerr := rf.exchangeRefreshToken(ctx, in)
	// The provider may have rotated the refresh token: what it answered
	// is saved even if ctx is nearly done.
	sctx, cancel := context.WithTimeout(rf.ctx, saveTimeout)
	defer cancel()
	var refreshErr error
	s, st, err := rf.sessions.mutateLoaded(sctx, cur, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.RefreshToken != in.refreshToken {
			return false, nil // the lock expired and someone else refreshed
		}
		refreshErr = rf.record(s, meta, now, res, xerr)
		return true, nil
	})
	if err != nil {
		rf.log.Error("sessionkit: saving a refreshed session failed", "error", err.Error())
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	return &storedResult{session: s, st: *st, refreshErr: refreshErr, fresh: xerr == nil}, nil
}

// record puts the outcome of an exchange, res or xerr, into the stored
// session s and its meta, and returns the refresh error to report.
func (rf *refresher) record(s *Session, meta *storeMeta, now time.Time, res *refreshResult, xerr error) error {
	d := decoded{session: s}
	if xerr == nil {
		rf.apply(&d, res)
		meta.Advance(now)
		meta.Failures, meta.RetryAt = 0, time.Time{}
	} else {
		rf.fail(&d, xerr, true)
		if !permanent(xerr) {
			meta.Failures++
			meta.RetryAt = now.Add(refresh.Backoff(meta.Failures))
		}
	}
	return d.refreshErr
}

// exchangeRefreshToken asks in's provider for new tokens and verifies a new
// ID token. Once the provider has answered with tokens, the old refresh
// token is spent: a new ID token that fails verification is reported in the
// result (idErr), not as a failure that would keep the old token.
func (rf *refresher) exchangeRefreshToken(ctx context.Context, in refreshInput) (*refreshResult, error) {
	tok, err := rf.redeemRefreshToken(ctx, in)
	if err != nil {
		return nil, err
	}
	res := &refreshResult{token: tok, issuedAt: rf.now().UTC().Truncate(time.Second)}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if err := rf.verifyRefreshedIDToken(ctx, in, raw, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// redeemRefreshToken sends in's refresh token to its provider, through
// Provider.Refresh when set, and returns the tokens it answered.
func (rf *refresher) redeemRefreshToken(ctx context.Context, in refreshInput) (*oauth2.Token, error) {
	p, err := rf.providers.get(in.provider)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	conf := rp.oauth2
	conf.Scopes = slices.Clone(conf.Scopes)
	octx := rf.oauthContext(ctx)
	var tok *oauth2.Token
	if p.cfg.Refresh != nil {
		current := &oauth2.Token{AccessToken: in.accessToken, TokenType: in.tokenType, RefreshToken: in.refreshToken, Expiry: in.expiry}
		ok := rf.hooks.safely(ctx, "Provider.Refresh", func() { tok, err = p.cfg.Refresh(octx, &conf, current) })
		if !ok && err == nil {
			err = errors.New("Provider.Refresh panicked")
		}
	} else {
		tok, err = oidc.RedeemRefreshToken(octx, &conf, in.refreshToken)
	}
	if err != nil {
		return nil, tokenEndpointErr(in.provider, err)
	}
	if tok, err = oidc.Refreshed(tok, in.refreshToken); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRefreshFailed, in.provider, err)
	}
	return tok, nil
}

// tokenEndpointErr is the refresh error for err, the failure of provider's
// token endpoint: ErrRefreshTokenInvalid when it refused the refresh token.
func tokenEndpointErr(provider string, err error) error {
	if oidc.GrantRefused(err) {
		return fmt.Errorf("%w: %w", ErrRefreshFailed, ErrRefreshTokenInvalid)
	}
	return fmt.Errorf("%w: %s: %w", ErrRefreshFailed, provider, oidc.RedactTokenError(err))
}

// verifyRefreshedIDToken verifies raw, the ID token of a refresh, as at
// sign-in but without a nonce (OpenID Connect Core 12.2), and puts it into
// res. One that names another subject fails the refresh: the tokens are
// someone else's. Any other refusal is kept in res.idErr, and the session
// keeps its old ID token.
func (rf *refresher) verifyRefreshedIDToken(ctx context.Context, in refreshInput, raw string, res *refreshResult) error {
	user, exp, _, err := rf.providers.verifyIDToken(ctx, in.provider, raw, "")
	if err == nil && user.ID != in.userID {
		err = fmt.Errorf("%w: %w", errInvalidIDToken, errSubjectChanged)
	}
	if err != nil {
		rf.hooks.err(ctx, "OnIdTokenError", rf.hooks.cb.OnIdTokenError, err)
		if errors.Is(err, errSubjectChanged) {
			return fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		}
		res.idErr = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		return nil
	}
	res.idToken, res.idExp, res.user = raw, exp, &user
	return nil
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
