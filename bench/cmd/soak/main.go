// Command soak is a soak test of the middleware: on loopback, in one process,
// it serves a JWK Set, an OAuth token endpoint that rotates refresh tokens
// and detects their reuse, and an application behind sessionkit's
// Middleware (a Provider, Bearer JWTs, the verified-credential cache, and
// optionally a Store), then drives at least -n requests through it from
// many simulated users of three kinds:
//
//   - cookie: stateless cookie sessions with no refresh token;
//   - bearer: "Authorization: Bearer" JWTs signed with RS256, PS256, ES256
//     or EdDSA, re-minted by the client before they expire;
//   - refresh: cookie sessions whose access tokens live -ttl, so that they
//     are refreshed continuously; each simulated browser has its own cookie
//     jar, shared by -tabs concurrent tabs, which keeps the cookies the
//     server sets as a browser does.
//
// Midway (once a third of the requests are done) it injects a fault for
// -fault: in its first half the token endpoint answers 500 and the JWK Set
// endpoint 503; in its second half the token endpoint hangs (longer than
// RefreshTimeout, before it reads the token) and the JWK Set is still
// down. With -lost-response the token endpoint instead rotates the refresh
// token and then hangs: the answer is lost after the provider committed
// the rotation. That run is expected to fail (see BENCHMARKS.md, Soak).
//
// It then checks, and exits non-zero when one fails:
//
//   - every response is 200 with the session of the user who sent it (no
//     transport error, no other status, no session lost or mixed up);
//   - RefreshAccessTokenError appears only from the fault's start to
//     -grace after its end, and a last request of every refreshing
//     browser has a clean session;
//   - the token endpoint never sees a rotated-out refresh token (reuse
//     detections: 0) and is called about once per expiry per session;
//   - goroutines and heap after the run are back where they were.
//
// It never runs under go test. It is bounded by -n and -max and stops by
// itself.
//
//	go run ./bench/cmd/soak                    # 240,000 requests, stateless cookies
//	go run ./bench/cmd/soak -store memory      # the same with memstore
package main

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/bench/internal/loopback"
	"github.com/sessionkit/sessionkit/memstore"
)

type options struct {
	n           int64
	max         time.Duration
	cookieUsers int
	bearerUsers int
	browsers    int
	tabs        int
	workers     int
	ttl         time.Duration
	fault       time.Duration
	grace       time.Duration
	store       string
	lost        bool
	refreshTO   time.Duration
}

func main() {
	var o options
	flag.Int64Var(&o.n, "n", 240000, "requests to send (at least; the run also waits -grace after the fault)")
	flag.DurationVar(&o.max, "max", 5*time.Minute, "stop after this long whatever the count")
	flag.IntVar(&o.cookieUsers, "cookie-users", 200, "users with stateless cookie sessions")
	flag.IntVar(&o.bearerUsers, "bearer-users", 200, "users with bearer JWTs")
	flag.IntVar(&o.browsers, "browsers", 24, "browsers with refreshing cookie sessions")
	flag.IntVar(&o.tabs, "tabs", 2, "concurrent tabs (goroutines) per refreshing browser, sharing its cookie jar")
	flag.IntVar(&o.workers, "workers", 8, "goroutines for each of the cookie and bearer kinds")
	flag.DurationVar(&o.ttl, "ttl", 4*time.Second, "access token lifetime of refreshing sessions")
	flag.DurationVar(&o.fault, "fault", 10*time.Second, "fault length: first half token endpoint 500 + JWKS 503, second half token endpoint hangs + JWKS 503")
	flag.DurationVar(&o.grace, "grace", 30*time.Second, "time after the fault within which RefreshAccessTokenError must have cleared")
	flag.StringVar(&o.store, "store", "none", "session store: none (stateless cookies) or memory")
	flag.BoolVar(&o.lost, "lost-response", false, "in the fault's second half the token endpoint rotates the refresh token, then hangs (a response lost after the rotation) instead of hanging before it")
	flag.DurationVar(&o.refreshTO, "refresh-timeout", 0, "Config.RefreshTimeout (0: the library's default, FetchTimeout, 10 s)")
	flag.Parse()
	if o.ttl < 2*time.Second || o.tabs < 1 || o.workers < 1 || o.n < 1 || o.cookieUsers < 1 || o.bearerUsers < 1 || o.browsers < 1 {
		log.Fatal("soak: -ttl must be at least 2s; -tabs, -workers, -n, -cookie-users, -bearer-users and -browsers at least 1")
	}
	violations, err := run(o)
	if err != nil {
		log.Fatal("soak: ", err)
	}
	if len(violations) > 0 {
		fmt.Println("FAILED:")
		for _, v := range violations {
			fmt.Println("  -", v)
		}
		os.Exit(1)
	}
	fmt.Println("PASS: every invariant held")
}

// ---------------------------------------------------------------- keys and JWKS

type signer struct {
	alg    string
	kid    string
	method jwt.SigningMethod
	key    any // private key
	jwk    map[string]string
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newSigners() ([]*signer, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	epub, err := ek.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	okpPub, okp, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	rsaJWK := func(kid, alg string) map[string]string {
		return map[string]string{"kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
			"n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())}
	}
	return []*signer{
		{alg: "RS256", kid: "rsa-rs256", method: jwt.SigningMethodRS256, key: rk, jwk: rsaJWK("rsa-rs256", "RS256")},
		{alg: "PS256", kid: "rsa-ps256", method: jwt.SigningMethodPS256, key: rk, jwk: rsaJWK("rsa-ps256", "PS256")},
		{alg: "ES256", kid: "ec-es256", method: jwt.SigningMethodES256, key: ek,
			jwk: map[string]string{"kty": "EC", "kid": "ec-es256", "alg": "ES256", "use": "sig", "crv": "P-256",
				"x": b64(epub[1:33]), "y": b64(epub[33:])}},
		{alg: "EdDSA", kid: "okp-eddsa", method: jwt.SigningMethodEdDSA, key: okp,
			jwk: map[string]string{"kty": "OKP", "kid": "okp-eddsa", "alg": "EdDSA", "use": "sig", "crv": "Ed25519",
				"x": b64(okpPub)}},
	}, nil
}

const (
	issuer   = "https://issuer.soak.test"
	audience = "soak-api"
)

func (s *signer) mint(sub string, lifetime time.Duration) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(s.method, jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(lifetime).Unix(),
	})
	t.Header["kid"] = s.kid
	return t.SignedString(s.key)
}

// probeJWKS presents a JWT whose "kid" the Manager does not hold, which
// makes it fetch the JWK Set at once: into the outage, so that the outage
// is seen (the scheduled re-fetch is hourly).
func probeJWKS(ctx context.Context, m *sessionkit.Manager, s *signer) {
	probe := *s
	probe.kid = "soak-unknown"
	raw, err := probe.mint("probe", time.Minute)
	if err != nil {
		return
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://soak.test/", nil)
	if err != nil {
		return
	}
	r.Header.Set("Authorization", "Bearer "+raw)
	_, _ = m.GetServerSession(r)
}

// faults is the switchboard of the injected fault.
type faults struct {
	jwksDown  atomic.Bool
	token500  atomic.Bool
	tokenHang atomic.Bool
	// loseResponse (with -lost-response, instead of tokenHang): the token
	// endpoint rotates the refresh token, then hangs.
	loseResponse atomic.Bool
	stop         chan struct{} // closed at shutdown: releases hung handlers
	jwksCalls    atomic.Int64
	jwksFailed   atomic.Int64
}

func jwksHandler(signers []*signer, f *faults) http.Handler {
	var keys []map[string]string
	for _, s := range signers {
		keys = append(keys, s.jwk)
	}
	body, _ := json.Marshal(map[string]any{"keys": keys})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.jwksCalls.Add(1)
		if f.jwksDown.Load() {
			f.jwksFailed.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// ---------------------------------------------------------------- token endpoint

// tokenEndpoint issues refresh tokens in families (one per sign-in),
// rotates them on every use and, as RFC 9700 4.14.2 recommends, revokes the
// whole family when a rotated-out token is presented again.
type tokenEndpoint struct {
	ttl time.Duration
	f   *faults

	mu       sync.Mutex
	current  map[string]string // refresh token -> family, only the live one
	spent    map[string]string // rotated-out refresh token -> family
	spentAt  map[string]time.Time
	reuses   []string        // how each reuse came about, for the report
	revoked  map[string]bool // family
	seq      int
	ok       int64            // successful refreshes
	byFamily map[string]int64 // successful refreshes per family
	calls    atomic.Int64     // every request
	failed   atomic.Int64     // answered 500 or hung
	reuse    atomic.Int64     // reuse detections
	refused  atomic.Int64     // invalid_grant for any reason
}

func newTokenEndpoint(ttl time.Duration, f *faults) *tokenEndpoint {
	return &tokenEndpoint{ttl: ttl, f: f, current: map[string]string{}, spent: map[string]string{}, spentAt: map[string]time.Time{},
		revoked: map[string]bool{}, byFamily: map[string]int64{}}
}

// next makes family's next refresh token, the one current; te.mu is held.
func (te *tokenEndpoint) next(family string) string {
	te.seq++
	rt := "rt-" + family + "-" + strconv.Itoa(te.seq) + "-" + b64(random(12))
	te.current[rt] = family
	return rt
}

// issue starts a family for a sign-in and returns its first token.
func (te *tokenEndpoint) issue(family string) *oauth2.Token {
	te.mu.Lock()
	defer te.mu.Unlock()
	rt := te.next(family)
	return &oauth2.Token{AccessToken: "at-" + b64(random(24)), RefreshToken: rt, TokenType: "Bearer",
		Expiry: time.Now().Add(te.ttl)}
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	te.calls.Add(1)
	if te.f.token500.Load() {
		te.failed.Add(1)
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	if te.f.tokenHang.Load() {
		// Hang before touching the token, as a stuck load balancer would,
		// until the client gives up or the run ends.
		te.failed.Add(1)
		// Reading the body lets net/http see the client hang up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-te.f.stop:
		case <-time.After(time.Minute):
		}
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		te.answer(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	rt := r.PostForm.Get("refresh_token")
	te.mu.Lock()
	family, live := te.current[rt]
	if !live {
		if fam, old := te.spent[rt]; old {
			te.reuse.Add(1)
			te.reuses = append(te.reuses, fmt.Sprintf("%s at %s: a refresh token rotated %s earlier (at %s) presented again",
				fam, time.Now().Format("15:04:05.000"), time.Since(te.spentAt[rt]).Round(time.Millisecond), te.spentAt[rt].Format("15:04:05.000")))
			te.revoked[fam] = true
			for k, v := range te.current {
				if v == fam {
					delete(te.current, k)
				}
			}
		}
		te.mu.Unlock()
		te.refused.Add(1)
		te.answer(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant"})
		return
	}
	delete(te.current, rt)
	te.spent[rt] = family
	te.spentAt[rt] = time.Now()
	next := te.next(family)
	te.ok++
	te.byFamily[family]++
	te.mu.Unlock()
	if te.f.loseResponse.Load() {
		// The token is rotated but the answer never arrives in time: a
		// response lost after the provider committed the rotation.
		te.failed.Add(1)
		select {
		case <-r.Context().Done():
		case <-te.f.stop:
		}
		return
	}
	te.answer(w, http.StatusOK, map[string]any{"access_token": "at-" + b64(random(24)), "token_type": "Bearer",
		"expires_in": int(te.ttl / time.Second), "refresh_token": next})
}

func (te *tokenEndpoint) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---------------------------------------------------------------- app

// The app answers 200 with the session's user ID in the body and its Error
// in a header, and 401 without a session. /login signs in.
func appHandler(m *sessionkit.Manager, te *tokenEndpoint) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		p := sessionkit.SignInParams{User: &sessionkit.User{ID: user, Email: user + "@soak.test"}}
		if r.URL.Query().Get("kind") == "refresh" {
			p.Provider = "idp"
			p.Token = te.issue(user)
		} else {
			p.Token = &oauth2.Token{AccessToken: "at-" + b64(random(24)), TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
		}
		if _, err := m.SignIn(w, r, p); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionkit.FromContext(r.Context())
		if !ok || s.Status != sessionkit.StatusActive {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Session-Error", s.Error)
		_, _ = io.WriteString(w, s.User.ID)
	})
	return m.Middleware(mux)
}

// ---------------------------------------------------------------- load

type kind int

const (
	kCookie kind = iota
	kBearer
	kRefresh
	nKinds
)

var kindNames = [nKinds]string{"cookie", "bearer", "refresh"}

// stats is one worker's record; merged at the end.
type stats struct {
	lat        [nKinds][]time.Duration
	unexpected []string // the first few, for the report
	nUnexp     int64
	flagged    int64 // responses with RefreshAccessTokenError inside the fault window
	lateFlag   int64 // ... outside it
}

func (st *stats) bad(format string, a ...any) {
	st.nUnexp++
	if len(st.unexpected) < 5 {
		st.unexpected = append(st.unexpected, fmt.Sprintf(format, a...))
	}
}

// window is the fault window, in nanoseconds since start; zero until set.
// lastFlag is when, since start, the last response with
// RefreshAccessTokenError was sent.
type window struct{ start, end, lastFlag atomic.Int64 }

type loadgen struct {
	base    *url.URL
	tr      *http.Transport
	sent    atomic.Int64
	n       int64
	stopAt  time.Time
	started time.Time
	win     *window
	grace   time.Duration
	faultAt int64 // request count at which the fault starts
	trigger chan struct{}
	trOnce  sync.Once
}

// more reports whether a worker should send another request.
func (g *loadgen) more() bool {
	if time.Now().After(g.stopAt) {
		return false
	}
	c := g.sent.Add(1)
	if c == g.faultAt {
		g.trOnce.Do(func() { close(g.trigger) })
	}
	if c <= g.n {
		return true
	}
	// Past -n: go on until -grace after the fault has ended.
	e := g.win.end.Load()
	return e == 0 || time.Since(g.started) < time.Duration(e)+g.grace
}

// inFaultWindow reports whether t lies between the fault's start and
// -grace after its end.
func (g *loadgen) inFaultWindow(t time.Time) bool {
	s := g.win.start.Load()
	if s == 0 {
		return false
	}
	d := t.Sub(g.started)
	e := g.win.end.Load()
	return d >= time.Duration(s) && (e == 0 || d < time.Duration(e)+g.grace)
}

func (g *loadgen) do(c *http.Client, st *stats, k kind, req *http.Request, user string, t0 time.Time) {
	resp, err := c.Do(req)
	if err != nil {
		st.bad("%s %s: %v", kindNames[k], user, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	st.lat[k] = append(st.lat[k], time.Since(t0))
	switch {
	case err != nil:
		st.bad("%s %s: reading body: %v", kindNames[k], user, err)
	case resp.StatusCode != http.StatusOK:
		st.bad("%s %s: status %d: %.100s", kindNames[k], user, resp.StatusCode, body)
	case string(body) != user:
		st.bad("%s %s: session of %q", kindNames[k], user, body)
	case resp.Header.Get("X-Session-Error") != "":
		if k == kRefresh && resp.Header.Get("X-Session-Error") == sessionkit.RefreshAccessTokenError && g.inFaultWindow(t0) {
			st.flagged++
			for d := int64(t0.Sub(g.started)); ; {
				if l := g.win.lastFlag.Load(); l >= d || g.win.lastFlag.CompareAndSwap(l, d) {
					break
				}
			}
		} else {
			st.lateFlag++
			st.bad("%s %s: session error %q at %s", kindNames[k], user, resp.Header.Get("X-Session-Error"), t0.Sub(g.started).Round(time.Millisecond))
		}
	}
}

// home is a GET of the app's page with one header set (none for "").
func (g *loadgen) home(key, value string) *http.Request {
	u := *g.base
	u.Path = "/"
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	if key != "" {
		req.Header.Set(key, value)
	}
	return req
}

func (g *loadgen) login(c *http.Client, user, k string) error {
	u := *g.base
	u.Path = "/login"
	u.RawQuery = url.Values{"user": {user}, "kind": {k}}.Encode()
	resp, err := c.Post(u.String(), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("login %s: status %d", user, resp.StatusCode)
	}
	return nil
}

func (g *loadgen) client(jar http.CookieJar) *http.Client {
	return &http.Client{Transport: g.tr, Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

// ---------------------------------------------------------------- run

type memSample struct {
	goroutines int
	heap       uint64
}

func sample() memSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{runtime.NumGoroutine(), ms.HeapAlloc}
}

// settle waits up to 5 s for the goroutine count to fall to at most want,
// as closed connections' goroutines exit.
func settle(want int) memSample {
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return sample()
}

func run(o options) ([]string, error) {
	base := sample()
	var violations []string
	fail := func(format string, a ...any) { violations = append(violations, fmt.Sprintf(format, a...)) }

	f := &faults{stop: make(chan struct{})}
	signers, err := newSigners()
	if err != nil {
		return nil, err
	}
	jwksSrv, err := loopback.Serve(jwksHandler(signers, f))
	if err != nil {
		return nil, err
	}
	te := newTokenEndpoint(o.ttl, f)
	tokenSrv, err := loopback.Serve(te)
	if err != nil {
		return nil, err
	}

	var store store.Store
	var closeStore func() error
	switch o.store {
	case "none":
	case "memory":
		s, err := memstore.New(memstore.Config{})
		if err != nil {
			return nil, err
		}
		store, closeStore = s, s.Close
	default:
		return nil, fmt.Errorf("-store %q: want none or memory", o.store)
	}

	var refreshErrors atomic.Int64
	var causesMu sync.Mutex
	causes := map[string]int{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := sessionkit.New(sessionkit.Config{
		Keys:  [][]byte{random(32)},
		Store: store,
		Providers: []sessionkit.Provider{{ID: "idp", ClientID: "soak", ClientSecret: "soak-secret",
			AuthURL: "http://127.0.0.1/authorize", TokenURL: tokenSrv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}},
		Bearer: &sessionkit.JWTConfig{
			JWKSURLs: []string{jwksSrv.URL + "/jwks"}, Issuer: issuer, Audience: []string{audience},
			Algorithms: []string{"RS256", "PS256", "ES256", "EdDSA"},
		},
		RefreshTimeout: o.refreshTO,
		Logger:         logger,
		Callbacks: sessionkit.Callbacks{
			OnAccessTokenError: func(_ context.Context, _ *sessionkit.Session, err error) {
				refreshErrors.Add(1)
				causesMu.Lock()
				causes[err.Error()]++
				causesMu.Unlock()
			},
		},
	})
	if err != nil {
		return nil, err
	}
	appSrv, err := loopback.Serve(appHandler(m, te))
	if err != nil {
		return nil, err
	}
	baseURL, _ := url.Parse(appSrv.URL)
	conns := o.workers*2 + o.browsers*o.tabs
	g := &loadgen{base: baseURL, n: o.n, grace: o.grace, win: &window{}, faultAt: o.n / 3, trigger: make(chan struct{}),
		tr: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: 30 * time.Second}}

	// Sign everyone in: each user is a client with its own cookie jar.
	type user struct {
		id string
		c  *http.Client
	}
	signInAll := func(n int, prefix, kind string) ([]user, error) {
		us := make([]user, n)
		for i := range us {
			us[i] = user{id: fmt.Sprintf("%s-%d", prefix, i), c: g.client(newJar())}
			if err := g.login(us[i].c, us[i].id, kind); err != nil {
				return nil, err
			}
		}
		return us, nil
	}
	cookieUsers, err := signInAll(o.cookieUsers, "cookie", "cookie")
	if err != nil {
		return nil, err
	}
	browsers, err := signInAll(o.browsers, "browser", "refresh")
	if err != nil {
		return nil, err
	}
	bearerClient := g.client(nil)

	fmt.Printf("soak: %d requests at least (max %s), store %s, GOMAXPROCS %d\n", o.n, o.max, o.store, runtime.GOMAXPROCS(0))
	fmt.Printf("users: %d cookie (%d workers), %d bearer (%d workers; RS256, PS256, ES256, EdDSA), %d refreshing browsers x %d tabs; access tokens %s\n",
		o.cookieUsers, o.workers, o.bearerUsers, o.workers, o.browsers, o.tabs, o.ttl)
	fmt.Printf("fault after %d requests, %s: %s token endpoint 500 + JWKS 503, then %s token endpoint hanging + JWKS 503; RefreshTimeout %s; grace %s\n",
		g.faultAt, o.fault, o.fault/2, o.fault-o.fault/2, cmp.Or(o.refreshTO, 10*time.Second), o.grace)

	var warm memSample
	warmAt := o.n / 10
	warmed := make(chan struct{})
	g.started = time.Now()
	g.stopAt = g.started.Add(o.max)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The fault, driven by the request count.
	var faultWG sync.WaitGroup
	faultWG.Go(func() {
		select {
		case <-g.trigger:
		case <-ctx.Done():
			return
		}
		g.win.start.Store(int64(time.Since(g.started)))
		f.token500.Store(true)
		f.jwksDown.Store(true)
		fmt.Printf("  %6.1fs fault on: token endpoint 500, JWKS 503\n", time.Since(g.started).Seconds())
		probeJWKS(ctx, m, signers[0])
		t := time.NewTimer(o.fault / 2)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		f.token500.Store(false)
		if o.lost {
			f.loseResponse.Store(true)
		} else {
			f.tokenHang.Store(true)
		}
		fmt.Printf("  %6.1fs token endpoint hangs\n", time.Since(g.started).Seconds())
		t.Reset(o.fault - o.fault/2)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		f.tokenHang.Store(false)
		f.loseResponse.Store(false)
		f.jwksDown.Store(false)
		g.win.end.Store(int64(time.Since(g.started)))
		fmt.Printf("  %6.1fs fault off\n", time.Since(g.started).Seconds())
	})
	// Progress and the warm-up sample.
	faultWG.Go(func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms) // no GC: the live heap plus garbage
				fmt.Printf("  %6.1fs %d requests, %d goroutines, heap %.1f MiB\n", time.Since(g.started).Seconds(), g.sent.Load(),
					runtime.NumGoroutine(), float64(ms.HeapAlloc)/(1<<20))
			}
		}
	})

	var all []*stats
	var mu sync.Mutex
	var wg sync.WaitGroup
	worker := func(fn func(st *stats)) {
		st := &stats{}
		mu.Lock()
		all = append(all, st)
		mu.Unlock()
		wg.Go(func() { fn(st) })
	}
	var warmOnce sync.Once
	checkWarm := func() {
		if g.sent.Load() >= warmAt {
			warmOnce.Do(func() { close(warmed) })
		}
	}
	// Cookie workers: each round-robins over its share of users.
	for w := range o.workers {
		worker(func(st *stats) {
			for i := w; g.more(); i += o.workers {
				checkWarm()
				cu := cookieUsers[i%len(cookieUsers)]
				g.do(cu.c, st, kCookie, g.home("Accept", "application/json"), cu.id, time.Now())
			}
		})
	}
	// Bearer workers: each user holds a JWT of 30 s, re-minted 10 s before
	// it expires, as Clerk's clients do.
	for w := range o.workers {
		worker(func(st *stats) {
			type held struct {
				jwt string
				exp time.Time
			}
			mine := map[int]*held{}
			for i := w; g.more(); i += o.workers {
				u := i % o.bearerUsers
				id := fmt.Sprintf("bearer-%d", u)
				h := mine[u]
				if h == nil || time.Until(h.exp) < 10*time.Second {
					s := signers[u%len(signers)]
					tok, err := s.mint(id, 30*time.Second)
					if err != nil {
						st.bad("mint %s: %v", s.alg, err)
						continue
					}
					h = &held{tok, time.Now().Add(30 * time.Second)}
					mine[u] = h
				}
				g.do(bearerClient, st, kBearer, g.home("Authorization", "Bearer "+h.jwt), id, time.Now())
			}
		})
	}
	// Refreshing browsers: -tabs goroutines per browser share its jar.
	for _, b := range browsers {
		for range o.tabs {
			worker(func(st *stats) {
				for g.more() {
					g.do(b.c, st, kRefresh, g.home("Accept", "application/json"), b.id, time.Now())
				}
			})
		}
	}
	select {
	case <-warmed:
		warm = sample()
	case <-time.After(o.max):
	}
	wg.Wait()
	elapsed := time.Since(g.started)
	cancel()
	faultWG.Wait()

	// A last request from every refreshing browser: the session is there,
	// with no error, whatever happened during the fault.
	final := &stats{}
	finalStart := time.Now()
	for _, b := range browsers {
		g.do(b.c, final, kRefresh, g.home("Accept", "application/json"), b.id, finalStart.Add(-24*time.Hour)) // outside any window
	}
	for _, cu := range cookieUsers {
		g.do(cu.c, final, kCookie, g.home("", ""), cu.id, finalStart.Add(-24*time.Hour))
	}
	if final.nUnexp > 0 {
		fail("final check: %d of %d users lost their session or kept an error: %v", final.nUnexp, len(browsers)+len(cookieUsers), final.unexpected)
	}

	g.tr.CloseIdleConnections()
	live := settle(warm.goroutines)

	// Merge.
	var lat [nKinds][]time.Duration
	var every []time.Duration
	var unexpected, flagged, lateFlag int64
	var samples []string
	for _, st := range all {
		for k := range nKinds {
			lat[k] = append(lat[k], st.lat[k]...)
			every = append(every, st.lat[k]...)
		}
		unexpected += st.nUnexp
		flagged += st.flagged
		lateFlag += st.lateFlag
		samples = append(samples, st.unexpected...)
	}
	total := int64(len(every))

	te.mu.Lock()
	okRefresh := te.ok
	perFamily := make([]int64, 0, len(te.byFamily))
	for _, v := range te.byFamily {
		perFamily = append(perFamily, v)
	}
	revokedFamilies := len(te.revoked)
	te.mu.Unlock()
	slices.Sort(perFamily)
	// Expected refreshes: one per half lifetime (the effective leeway is
	// half the lifetime) per browser, over the run, less the outage:
	// refreshing stops from the fault's start until the sessions recover
	// (the last flagged response).
	outage := time.Duration(g.win.lastFlag.Load() - g.win.start.Load())
	half := o.ttl / 2
	expiries := int64(float64(len(browsers)) * (elapsed - outage).Seconds() / half.Seconds())
	perBrowserMax := int64(elapsed/half) + 1
	fmt.Println()
	fmt.Printf("requests: %d in %s (%.0f req/s); %d unexpected\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), unexpected)
	for _, s := range samples {
		fmt.Println("  unexpected:", s)
	}
	for k := range nKinds {
		p50, p99, pmax := pct(lat[k])
		fmt.Printf("  %-8s %7d requests  p50 %-9s p99 %-9s max %s\n", kindNames[k], len(lat[k]), p50, p99, pmax)
	}
	p50, p99, pmax := pct(every)
	fmt.Printf("  %-8s %7d requests  p50 %-9s p99 %-9s max %s\n", "all", total, p50, p99, pmax)
	fmt.Printf("fault: %s to %s; responses with RefreshAccessTokenError: %d inside the fault window (+%s), %d outside, the last at %s (cleared %s after the fault); OnAccessTokenError fired %d times\n",
		time.Duration(g.win.start.Load()).Round(100*time.Millisecond), time.Duration(g.win.end.Load()).Round(100*time.Millisecond),
		flagged, o.grace, lateFlag, time.Duration(g.win.lastFlag.Load()).Round(100*time.Millisecond),
		time.Duration(g.win.lastFlag.Load()-g.win.end.Load()).Round(100*time.Millisecond), refreshErrors.Load())
	fmt.Printf("token endpoint: %d calls, %d refreshes, %d failed by the fault, %d refused, %d reuse detections, %d families revoked\n",
		te.calls.Load(), okRefresh, te.failed.Load(), te.refused.Load(), te.reuse.Load(), revokedFamilies)
	if len(perFamily) > 0 {
		fmt.Printf("  refreshes vs expiries: %d refreshes for about %d expiries (%d browsers x %s outside the outage / %s, the effective leeway); per browser min %d median %d max %d (at most %d possible)\n",
			okRefresh, expiries, len(browsers), (elapsed - outage).Round(100*time.Millisecond), half, perFamily[0], perFamily[len(perFamily)/2], perFamily[len(perFamily)-1], perBrowserMax)
	}
	causesMu.Lock()
	for c, n := range causes {
		fmt.Printf("  responses whose refresh failed, by cause: %6d x %s\n", n, c)
	}
	causesMu.Unlock()
	te.mu.Lock()
	for _, r := range te.reuses {
		fmt.Println("  reuse:", r)
	}
	te.mu.Unlock()
	fmt.Printf("JWKS: %d fetches, %d refused by the fault\n", f.jwksCalls.Load(), f.jwksFailed.Load())

	// Shut down, then the last sample.
	close(f.stop)
	appSrv.Close()
	m.Close()
	tokenSrv.Close()
	jwksSrv.Close()
	if closeStore != nil {
		_ = closeStore()
	}
	g.tr.CloseIdleConnections()
	end := settle(base.goroutines)
	mib := func(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	fmt.Printf("goroutines: %d before, %d warmed up (%d%% of requests), %d after the load (idle conns closed), %d after shutdown\n",
		base.goroutines, warm.goroutines, 10, live.goroutines, end.goroutines)
	fmt.Printf("heap after GC: %s before, %s warmed up, %s after the load, %s after shutdown\n",
		mib(base.heap), mib(warm.heap), mib(live.heap), mib(end.heap))

	// The invariants.
	if total < o.n {
		fail("only %d requests (want %d): -max reached", total, o.n)
	}
	if unexpected > 0 {
		fail("%d unexpected responses", unexpected)
	}
	if g.win.end.Load() == 0 {
		fail("the fault did not run to its end")
	}
	if n := te.reuse.Load(); n > 0 {
		fail("%d refresh tokens were reused", n)
	}
	if n := te.refused.Load(); n > 0 {
		fail("%d refresh requests refused", n)
	}
	if len(perFamily) != len(browsers) {
		fail("%d of %d browsers refreshed", len(perFamily), len(browsers))
	}
	if okRefresh > expiries+int64(len(browsers)) || okRefresh < expiries/2 {
		fail("%d refreshes for about %d expiries: not one per expiry", okRefresh, expiries)
	}
	if len(perFamily) > 0 && perFamily[len(perFamily)-1] > perBrowserMax {
		fail("a browser refreshed %d times, more than once per expiry (%d)", perFamily[len(perFamily)-1], perBrowserMax)
	}
	if f.jwksFailed.Load() == 0 {
		fail("the JWKS outage was not exercised")
	}
	if te.failed.Load() == 0 || flagged == 0 {
		fail("the token endpoint fault was not seen by any session")
	}
	if live.goroutines > warm.goroutines+4 {
		fail("goroutines grew: %d warmed up, %d after the load", warm.goroutines, live.goroutines)
	}
	if end.goroutines > base.goroutines+2 {
		fail("goroutines leaked: %d before, %d after shutdown", base.goroutines, end.goroutines)
	}
	// The verified-credential cache may fill up to its 32 MiB budget.
	if live.heap > warm.heap+48<<20 {
		fail("heap grew: %s warmed up, %s after the load", mib(warm.heap), mib(live.heap))
	}
	if end.heap > base.heap+8<<20 {
		fail("heap not released: %s before, %s after shutdown", mib(base.heap), mib(end.heap))
	}
	return violations, nil
}

func pct(d []time.Duration) (p50, p99, pmax time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return at(0.50).Round(time.Microsecond), at(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond)
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
