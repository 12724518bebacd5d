package jwtverify

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/sessionkit/sessionkit/internal/safeurl"
	"github.com/sessionkit/sessionkit/observe"
)

// keySet holds the keys of one or more JWK Set URLs. It fetches them in
// the background (at start, every refresh interval, and with backoff after
// a failure) and on demand when a token names a key it does not hold, at
// most once per minimum interval. A request never starts more than one
// fetch, never waits on the rate limit, and waits for a fetch that is
// already running only until its own context ends; the fetch itself runs
// on the key set's context, so a client that hangs up cannot cancel it.
// Keys held stay in use while fetches fail. Safe for concurrent use.
type keySet struct {
	ctx     context.Context // ends background work
	urls    []string
	client  *http.Client
	timeout time.Duration
	every   time.Duration
	limiter *rate.Limiter
	logger  *slog.Logger
	name    string
	// onUnknown is Config.OnUnknownKey.
	onUnknown func()

	store *jwkset.MemoryJWKSet
	kf    keyfunc.Keyfunc
	gen   atomic.Uint64 // advances with every key set fetched

	// mu guards the fields below; it is never held across network I/O.
	mu       sync.Mutex
	perURL   map[string][]jwkset.JWK
	inflight chan struct{} // closed when the running fetch ends; nil when none
	closed   bool          // set by wait: no fetch starts after it
	wg       sync.WaitGroup
}

// closedCh is returned by start once the key set is closed.
var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// sigUses are the JWK "use" values a verification key may carry.
var sigUses = []jwkset.USE{jwkset.UseSig, ""}

// errNoUsableKey: a JWK Set answered, but with no key this package can use.
var errNoUsableKey = errors.New("the JWK Set holds no usable key")

// errJWKSStatus: a JWK Set URL answered with another status than 200.
var errJWKSStatus = errors.New("unexpected HTTP status")

func newKeySet(ctx context.Context, cfg *Config) (*keySet, error) {
	k := &keySet{
		ctx:       ctx,
		urls:      cfg.JWKSURLs,
		client:    cfg.Client,
		timeout:   cfg.FetchTimeout,
		every:     cfg.RefreshInterval,
		limiter:   rate.NewLimiter(rate.Every(cfg.MinRefreshInterval), 1),
		logger:    cfg.Logger,
		name:      cfg.Name,
		onUnknown: cfg.OnUnknownKey,
		store:     jwkset.NewMemoryStorage(),
		perURL:    map[string][]jwkset.JWK{},
	}
	if k.client == nil {
		k.client = http.DefaultClient
	}
	if k.logger == nil {
		k.logger = slog.New(slog.DiscardHandler)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: k.store, UseWhitelist: sigUses})
	if err != nil {
		return nil, err
	}
	k.kf = kf
	first := k.start()
	k.wg.Add(1)
	go k.background(first)
	return k, nil
}

// background refreshes on a timer, sooner after a failure, until the key
// set's context ends.
func (k *keySet) background(first chan struct{}) {
	defer k.wg.Done()
	wait := func(ch chan struct{}) {
		select {
		case <-ch:
		case <-k.ctx.Done():
		}
	}
	wait(first)
	backoff := time.Second
	for {
		next := k.every
		if k.empty() {
			next = min(backoff, k.every)
			backoff = min(2*backoff, k.every)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(next)
		select {
		case <-k.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait(k.start())
	}
}

// wait stops new fetches and blocks until the background goroutines have
// ended; the caller must have ended the context first.
func (k *keySet) wait() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.wg.Wait()
}

func (k *keySet) empty() bool {
	all, _ := k.store.KeyReadAll(k.ctx)
	return len(all) == 0
}

// start begins a fetch of every URL unless one is running, and returns the
// channel closed when the running fetch ends.
func (k *keySet) start() chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.startLocked()
}

// joinOrStart returns the running fetch, or starts one if the rate limit
// allows, or returns nil. Looking and starting under one lock means that a
// request never sees "no fetch running" while another has just been
// allowed to start one.
func (k *keySet) joinOrStart() chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inflight != nil {
		return k.inflight
	}
	if !k.limiter.Allow() {
		return nil
	}
	if k.onUnknown != nil {
		k.onUnknown()
	}
	return k.startLocked()
}

// startLocked is start with k.mu held.
func (k *keySet) startLocked() chan struct{} {
	if k.closed {
		return closedCh
	}
	if k.inflight != nil {
		return k.inflight
	}
	done := make(chan struct{})
	k.inflight = done
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		k.fetchAll()
		k.mu.Lock()
		k.inflight = nil
		k.mu.Unlock()
		close(done)
	}()
	return done
}

// count returns how many keys are held.
func (k *keySet) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, keys := range k.perURL {
		n += len(keys)
	}
	return n
}

// running returns the channel of the running fetch, or nil.
func (k *keySet) running() chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.inflight
}

// fetchResult is what one URL answered.
type fetchResult struct {
	url  string
	keys []jwkset.JWK
	err  error
}

// fetchAll fetches every URL at once and, if any answered, replaces the
// keys of those that did. A URL that failed keeps its keys.
func (k *keySet) fetchAll() {
	ctx, cancel := context.WithTimeout(k.ctx, k.timeout)
	defer cancel()
	results := make(chan fetchResult, len(k.urls))
	for _, u := range k.urls {
		go func() {
			keys, err := k.fetch(ctx, u)
			results <- fetchResult{u, keys, err}
		}()
	}
	var fresh []fetchResult
	for range k.urls {
		r := <-results
		if r.err != nil {
			k.logger.WarnContext(ctx, "sessionkit: JWKS fetch failed; keeping the keys already held",
				slog.String("config", k.name), slog.String("url", safeurl.Redact(r.url)), slog.String("error", safeurl.RedactErr(r.err, r.url)))
			continue
		}
		fresh = append(fresh, r)
	}
	if len(fresh) > 0 {
		k.replace(ctx, fresh)
	}
}

// replace stores the keys of fresh, beside those other URLs gave before.
func (k *keySet) replace(ctx context.Context, fresh []fetchResult) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range fresh {
		k.perURL[r.url] = r.keys
	}
	var all []jwkset.JWK
	for _, u := range k.urls {
		all = append(all, k.perURL[u]...)
	}
	_ = k.store.KeyReplaceAll(ctx, all) // the memory store never fails
	k.gen.Add(1)
}

func (k *keySet) fetch(ctx context.Context, u string) ([]jwkset.JWK, error) {
	req, err := http.NewRequestWithContext(observe.WithCall(ctx, observe.CallJWKS), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w %d", errJWKSStatus, resp.StatusCode)
	}
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("decoding JWK Set: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, m := range set.Keys {
		j, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue // unsupported or invalid keys are skipped, not fatal
		}
		keys = append(keys, j)
	}
	if len(keys) == 0 {
		// One bad answer must not take away the keys held.
		return nil, errNoUsableKey
	}
	return keys, nil
}

// keys returns the verification keys of family for t: the key named by its
// kid, or, without a kid, every signature key of that family whose alg pin
// allows t's algorithm. When there is none it joins a running fetch, or
// starts one if the rate limit allows, and looks again.
func (k *keySet) keys(ctx context.Context, t *jwt.Token, family string) ([]jwt.VerificationKey, error) {
	if keys, err := k.find(ctx, t, family); len(keys) > 0 || err != nil {
		return keys, err
	}
	ch := k.joinOrStart()
	if ch == nil {
		// Refused by the rate limit; a fetch may have ended since the
		// first look, so look once more.
		if keys, err := k.find(ctx, t, family); len(keys) > 0 || err != nil {
			return keys, err
		}
		return nil, ErrNoKey
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoKey, ctx.Err())
	}
	if keys, err := k.find(ctx, t, family); len(keys) > 0 || err != nil {
		return keys, err
	}
	return nil, ErrNoKey
}

// find looks keys up without fetching. A key of the wrong family is an
// error; a missing key is not.
func (k *keySet) find(ctx context.Context, t *jwt.Token, family string) ([]jwt.VerificationKey, error) {
	if _, ok := t.Header["kid"]; ok {
		key, err := k.kf.KeyfuncCtx(ctx)(t)
		switch {
		case errors.Is(err, jwkset.ErrKeyNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case KeyFamily(key) != family:
			return nil, ErrKeyType
		}
		return []jwt.VerificationKey{key}, nil
	}
	return k.unnamed(ctx, t.Method.Alg(), family), nil
}

// unnamed returns every held signature key of family whose alg pin, if
// any, is alg: the candidates for a token without a kid.
func (k *keySet) unnamed(ctx context.Context, alg, family string) []jwt.VerificationKey {
	all, _ := k.store.KeyReadAll(ctx)
	var keys []jwt.VerificationKey
	for _, j := range all {
		m := j.Marshal()
		if (m.USE != jwkset.UseSig && m.USE != "") || (m.ALG != "" && m.ALG.String() != alg) {
			continue
		}
		key := j.Key()
		if p, ok := key.(interface{ Public() crypto.PublicKey }); ok {
			key = p.Public()
		}
		if KeyFamily(key) == family {
			keys = append(keys, key)
		}
	}
	return keys
}
