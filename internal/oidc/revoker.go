package oidc

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// maxRevocations bounds the revocations a Revoker sends at once; the
// others wait their turn within their time bound.
const maxRevocations = 8

// RevocationEndpoint resolves a provider's revocation endpoint and the
// client authentication it takes; an empty URL means the provider has none.
type RevocationEndpoint func(ctx context.Context) (url string, auth ClientAuth, err error)

// Revoker revokes refresh tokens in the background (Revoke), each within
// a time bound, logging failures without the token. It is safe for
// concurrent use.
type Revoker struct {
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
	slots   chan struct{}

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// NewRevoker returns a Revoker sending through client, each revocation
// (endpoint resolution included) bounded by timeout.
func NewRevoker(client *http.Client, timeout time.Duration, log *slog.Logger) *Revoker {
	return &Revoker{client: client, timeout: timeout, log: log, slots: make(chan struct{}, maxRevocations)}
}

// Revoke starts the revocation of refreshToken at the endpoint e resolves
// and returns at once. The provider's ID names it in the log. A closed
// Revoker does nothing.
func (r *Revoker) Revoke(provider string, e RevocationEndpoint, refreshToken string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		defer cancel()
		if err := r.revoke(ctx, e, refreshToken); err != nil {
			r.log.Warn("sessionkit: revoking a refresh token failed", "provider", provider, "error", err.Error())
		}
	}()
}

// revoke resolves the endpoint and revokes refreshToken there.
func (r *Revoker) revoke(ctx context.Context, e RevocationEndpoint, refreshToken string) error {
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	endpoint, auth, err := e(ctx)
	if err != nil || endpoint == "" {
		return err
	}
	return Revoke(ctx, r.client, endpoint, auth, refreshToken)
}

// Close stops new revocations and waits for the running ones, which end
// within their time bound.
func (r *Revoker) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.running.Wait()
}

// Wait blocks until the revocations started so far have ended.
func (r *Revoker) Wait() { r.running.Wait() }
