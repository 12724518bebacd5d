package sessionkit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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

var (
	// errRefreshRecorded: a failure an earlier request recorded, of an
	// unknown cause.
	errRefreshRecorded = fmt.Errorf("%w: recorded in the session by an earlier request", ErrRefreshFailed)
	errRefreshWait     = refresh.ErrLockWait // the refresh did not finish within RefreshTimeout
	errSubjectChanged  = errors.New("the refreshed ID token names another subject")
	errNoRefreshToken  = fmt.Errorf("%w: the access token expired and the session has no refresh token", ErrRefreshFailed)
)

// refresher runs the refreshes of a Manager's sessions: one flight per
// refresh token (cookie sessions) or per stored session. It is safe for
// concurrent use.
type refresher struct {
	ctx              context.Context // the Manager's: ends at Close
	now              func() time.Time
	log              *slog.Logger
	hooks            *hooks
	leeway, exchange time.Duration // Config.RefreshLeeway; the bound of one exchange
	providers        providerLookup
	oauthContext     func(context.Context) context.Context // carries the Manager's HTTP client
	sessions         *storedSessions
	cookies          *refresh.Flights[*refreshResult]
	stored           *refresh.Group[*storedResult]
}

// refreshResult is a successful refresh, shared by the requests applying it.
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
	log := m.cfg.Logger
	onPanic := func(p any) {
		log.Error("sessionkit: refresh panicked", "panic_type", fmt.Sprintf("%T", p))
	}
	return &refresher{
		ctx: m.ctx, now: m.cfg.Now, log: log, hooks: m.hooks,
		leeway: m.cfg.RefreshLeeway, exchange: refresh.ExchangeTimeout(m.cfg.FetchTimeout, m.cfg.RefreshTimeout),
		providers: m.findProvider, oauthContext: m.oauthContext, sessions: m.stored,
		cookies: refresh.NewFlights[*refreshResult](m.cfg.RefreshTimeout, onPanic, m.cfg.Now, permanent),
		stored:  refresh.NewGroup[*storedResult](m.cfg.RefreshTimeout, onPanic),
	}
}

// close stops new refreshes and waits for the running ones.
func (rf *refresher) close() {
	rf.cookies.Close()
	rf.stored.Close()
}

// due reports whether s should be refreshed at now: an active cookie
// session whose refresh falls due by then (dueAt).
func (rf *refresher) due(s *Session, now time.Time) bool {
	if s.Source != SourceCookie || s.Status != StatusActive {
		return false
	}
	at, ok := rf.dueAt(s)
	return ok && !now.Before(at)
}

// dueAt returns when s's access token falls due for refresh
// (refresh.DueAt), and false when it never does here: no refresh token,
// or no configured provider to refresh it.
func (rf *refresher) dueAt(s *Session) (time.Time, bool) {
	if s.RefreshToken == "" || rf.providers(s.Provider) == nil {
		return time.Time{}, false
	}
	return refresh.DueAt(s.AccessTokenExpiresAt, s.AccessTokenIssuedAt, rf.leeway)
}

// markUnrefreshable sets Error, as Auth.js's refresh guide does, on d's
// active cookie session whose access token expired with no refresh token.
func markUnrefreshable(d *decoded) {
	if s := d.session; s != nil && s.Source == SourceCookie && s.Status == StatusActive && s.Error == "" &&
		s.RefreshToken == "" && s.AccessToken != "" && lapsed(s.AccessTokenExpiresAt, d.now) {
		d.own()
		d.session.Error, d.refreshErr = RefreshAccessTokenError, errNoRefreshToken
	}
}

// refreshInput is a copy of what a refresh needs of a session, which a
// handler may be changing.
type refreshInput struct {
	provider, userID string
	token            oauth2.Token
}

func refreshInputOf(s *Session) refreshInput {
	return refreshInput{provider: s.Provider, userID: s.User.ID, token: oauth2.Token{AccessToken: s.AccessToken,
		TokenType: s.TokenType, RefreshToken: s.RefreshToken, Expiry: s.AccessTokenExpiresAt}}
}

func (in refreshInput) key() refresh.Key { return refresh.KeyOf(in.provider, in.token.RefreshToken) }

// refresh refreshes the access token of d's cookie session, never failing
// the request nor waiting beyond RefreshTimeout or its context. A success
// is remembered while the new access token lives: a request with a cookie
// of before the rotation gets the new tokens.
func (rf *refresher) refresh(ctx context.Context, d *decoded) {
	in := refreshInputOf(d.session)
	res, fresh, err := rf.cookies.Do(ctx, in.key(), func() (*refreshResult, refresh.Key, time.Time, error) {
		xctx, cancel := context.WithTimeout(rf.hooks.obs.Detach(ctx, rf.ctx), rf.exchange)
		defer cancel()
		res, err := rf.exchangeRefreshToken(xctx, in)
		if err != nil {
			return nil, refresh.Key{}, time.Time{}, err
		}
		return res, refresh.KeyOf(in.provider, res.token.RefreshToken), res.token.Expiry, nil
	})
	switch {
	case err == nil:
		rf.apply(d, res)
		rf.hooks.obs.Shared(ctx, !d.updated)
	case !fresh: // failed a moment ago: not asked again before the backoff
		rf.fail(d, err, false)
	case errors.Is(err, refresh.ErrAbandoned):
		// The client gave up; the refresh goes on for the others.
	case errors.Is(err, refresh.ErrWaitTimeout):
		// A hook or transport that ignores its context: go on without it.
		rf.fail(d, fmt.Errorf("%w: %w", ErrRefreshFailed, errRefreshWait), false)
	default:
		rf.fail(d, refreshFailed(err), true)
	}
}

func refreshFailed(err error) error {
	if errors.Is(err, ErrRefreshFailed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRefreshFailed, err)
}

// permanent reports whether err means the refresh token is dead.
func permanent(err error) bool {
	return errors.Is(err, ErrRefreshTokenInvalid) || errors.Is(err, errSubjectChanged)
}

// storedResult is the outcome of one store-backed refresh flight.
type storedResult struct {
	session    *Session // shared by the waiters: cloned before use
	st         storeState
	refreshErr error
	fresh      bool // this flight refreshed the tokens
	updated    atomic.Bool
}

// storedDue is due, after any instance's backoff.
func (rf *refresher) storedDue(s *Session, st *storeState, now time.Time) bool {
	return rf.due(s, now) && !now.Before(st.meta.RetryAt)
}

// refreshStored refreshes d's stored session once across the instances: the
// requests of a process share one flight, the flight that takes the Store's
// lock refreshes and saves, and the others poll the Store for its result.
func (rf *refresher) refreshStored(ctx context.Context, d *decoded) {
	s, id := d.session, d.st.id
	in := refreshInputOf(s)
	res, err := rf.stored.Do(ctx, id, func() (*storedResult, error) { return rf.runStored(rf.hooks.obs.Detach(ctx, rf.ctx), id, in) })
	switch {
	case errors.Is(err, refresh.ErrAbandoned):
		// The client gave up; the refresh goes on for the others.
	case err != nil:
		if errors.Is(err, refresh.ErrWaitTimeout) {
			err = errRefreshWait
		}
		s.Error = RefreshAccessTokenError
		d.refreshErr = refreshFailed(err)
	case res.st.id != id:
		// The session moved to a new ID (a privilege change) meanwhile: a
		// cookie of before the move never reaches the moved session.
		d.session, d.shared, d.st, d.reissue = nil, false, nil, false
		d.err = ErrNoSession
	default: // a copy of the saved session
		st := res.st
		st.cookieGen = d.st.cookieGen
		d.session, d.shared, d.st = res.session.Clone(), false, &st
		d.refreshErr = res.refreshErr
		d.reissue = d.reissue || st.meta.Gen != st.cookieGen
		d.updated = res.fresh && res.updated.CompareAndSwap(false, true)
		rf.hooks.obs.Shared(ctx, !d.updated && d.session.AccessToken != s.AccessToken)
	}
}

// runStored takes the refresh lock and refreshes, or waits for the holder's
// result. The lock is the refresh token's: a session that moves to a new ID
// mid-refresh keeps its refresh token, which must be exchanged once.
func (rf *refresher) runStored(base context.Context, id string, in refreshInput) (*storedResult, error) {
	ctx, cancel := context.WithTimeout(base, rf.exchange)
	defer cancel()
	key := in.key()
	lockKey := "refresh:" + hex.EncodeToString(key[:])
	return refresh.Shared(ctx, func() (*storedResult, bool, error) {
		unlock, err := rf.sessions.lock(ctx, lockKey, rf.exchange+refresh.LockSlack)
		switch {
		case errors.Is(err, store.ErrLocked):
			return nil, false, nil
		case err != nil:
			return nil, false, fmt.Errorf("%w: %w", ErrRefreshFailed, storeErr(err))
		}
		res, err := rf.refreshLocked(ctx, id, in)
		uctx, ucancel := context.WithTimeout(rf.ctx, saveTimeout)
		_ = unlock(uctx)
		ucancel()
		return res, true, err
	}, func() (*storedResult, bool, error) {
		res, _, err := rf.refreshedElsewhere(ctx, id, in)
		return res, res != nil, err
	})
}

// refreshedElsewhere loads session id: the outcome when in's refresh token
// needs no exchange (refreshed elsewhere, or the session is over).
func (rf *refresher) refreshedElsewhere(ctx context.Context, id string, in refreshInput) (*storedResult, loaded, error) {
	s, st, err := rf.sessions.load(ctx, id, true)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	now := rf.now()
	s.Status = statusAt(s, now)
	if s.Status != StatusActive || s.RefreshToken != in.token.RefreshToken || !rf.storedDue(s, st, now) {
		return &storedResult{session: s, st: *st}, loaded{}, nil
	}
	return nil, loaded{s, st}, nil
}

// refreshLocked refreshes session id and saves it, holding the lock.
func (rf *refresher) refreshLocked(ctx context.Context, id string, in refreshInput) (*storedResult, error) {
	done, cur, err := rf.refreshedElsewhere(ctx, id, in)
	if done != nil || err != nil {
		return done, err
	}
	res, xerr := rf.exchangeRefreshToken(ctx, in)
	// Saved even if ctx ends: the provider may have rotated the token.
	sctx, cancel := context.WithTimeout(rf.ctx, saveTimeout)
	defer cancel()
	var refreshErr error
	s, st, err := rf.sessions.mutateLoaded(sctx, cur, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.RefreshToken != in.token.RefreshToken {
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

// record puts an exchange's outcome into the stored session s and its meta.
func (rf *refresher) record(s *Session, meta *storeMeta, now time.Time, res *refreshResult, xerr error) error {
	d := decoded{session: s}
	if xerr == nil {
		rf.apply(&d, res)
		meta.Refreshed(now)
	} else {
		rf.fail(&d, xerr, true)
		if !permanent(xerr) {
			meta.RefreshFailed(now, refresh.Backoff)
		}
	}
	return d.refreshErr
}

// exchangeRefreshToken asks in's provider for new tokens and verifies a new
// ID token as at sign-in, without a nonce (OpenID Connect Core 12.2). One
// naming another subject fails the refresh: the tokens are someone else's.
// Otherwise the old refresh token is spent once the provider has answered:
// a refused ID token goes to res.idErr, and the session keeps its old one.
func (rf *refresher) exchangeRefreshToken(ctx context.Context, in refreshInput) (*refreshResult, error) {
	tok, err := rf.redeemRefreshToken(ctx, in)
	if err != nil {
		return nil, err
	}
	res := &refreshResult{token: tok, issuedAt: rf.now().UTC().Truncate(time.Second)}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return res, nil
	}
	user, exp, _, err := rf.providers.verifyIDToken(ctx, in.provider, raw, "")
	if err == nil && user.ID != in.userID {
		err = fmt.Errorf("%w: %w", errInvalidIDToken, errSubjectChanged)
	}
	if err != nil {
		rf.hooks.err(ctx, "OnIdTokenError", rf.hooks.cb.OnIdTokenError, err)
		if errors.Is(err, errSubjectChanged) {
			return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		}
		res.idErr = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		return res, nil
	}
	res.idToken, res.idExp, res.user = raw, exp, &user
	return res, nil
}

// redeemRefreshToken exchanges in's refresh token (Provider.Refresh if set).
func (rf *refresher) redeemRefreshToken(ctx context.Context, in refreshInput) (*oauth2.Token, error) {
	p, err := rf.providers.get(in.provider)
	var rp *resolvedProvider
	if err == nil {
		rp, err = p.resolve(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	conf := rp.oauth2
	conf.Scopes = slices.Clone(conf.Scopes)
	var exchange oidc.RefreshFunc
	if p.cfg.Refresh != nil {
		exchange = func(octx context.Context, conf *oauth2.Config, cur *oauth2.Token) (tok *oauth2.Token, err error) {
			if !rf.hooks.safely(ctx, "Provider.Refresh", func() { tok, err = p.cfg.Refresh(octx, conf, cur) }) && err == nil {
				err = errors.New("Provider.Refresh panicked")
			}
			return tok, err
		}
	}
	start := time.Now()
	tok, err := oidc.Refresh(rf.hooks.obs.RefreshCall(rf.oauthContext(ctx)), &conf, &in.token, exchange)
	rf.hooks.obs.Exchanged(ctx, start, err, errors.Is(err, oidc.ErrGrantRefused))
	switch {
	case errors.Is(err, oidc.ErrGrantRefused):
		return nil, fmt.Errorf("%w: %w", ErrRefreshFailed, ErrRefreshTokenInvalid)
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %w", ErrRefreshFailed, in.provider, err)
	}
	return tok, nil
}

// apply puts res's tokens into d's session; OnSessionUpdate fires for the
// first request applying res.
func (rf *refresher) apply(d *decoded, res *refreshResult) {
	s := d.session
	tok := res.token
	s.AccessToken = tok.AccessToken
	s.TokenType = tok.Type()
	s.AccessTokenExpiresAt = tok.Expiry.UTC().Truncate(time.Second)
	s.RefreshToken = tok.RefreshToken
	if res.idToken != "" {
		s.IDToken, s.IDTokenExpiresAt = res.idToken, res.idExp
		mergeUser(&s.User, res.user)
	}
	s.Error = ""
	if res.idErr != nil { // new tokens, but the old ID token stays
		s.Error = RefreshAccessTokenError
		d.refreshErr = res.idErr
	}
	s.AccessTokenIssuedAt = res.issuedAt
	d.reissue = true
	if res.updated.CompareAndSwap(false, true) {
		d.updated = true
	}
}

// fail records a failed refresh on d's session. A dead refresh token is
// dropped, never to be sent again; after a transient failure it is kept for
// a retry after the backoff. write: the cookie is re-written.
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
