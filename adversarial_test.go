package sessionkit

import (
	"bufio"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/refresh"
	"github.com/sessionkit/sessionkit/internal/seal"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

// The adversarial suite: one row per attack on what a client controls (the
// Authorization header, the session cookie and its chunks, the JWT cookie,
// the query string), each with its exact outcome: the session (or none),
// GetServerSession's error and cause, the callbacks the middleware fires,
// and Require's status and error code for the same request as an API call.
//
// The Manager under attack is deliberately the riskier configuration:
// HS256 is allowed beside the asymmetric algorithms (with a static shared
// secret), a JWT cookie is read, and azp is checked.

// advCall is one callback firing.
type advCall struct {
	name string
	err  error
}

// advRecorder records callbacks with their errors.
type advRecorder struct {
	mu    sync.Mutex
	calls []advCall
}

func (r *advRecorder) add(name string, err error) {
	r.mu.Lock()
	r.calls = append(r.calls, advCall{name, err})
	r.mu.Unlock()
}

func (r *advRecorder) take() []advCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func (r *advRecorder) callbacks() Callbacks {
	s := func(name string) func(contextT, *Session) { return func(contextT, *Session) { r.add(name, nil) } }
	e := func(name string) func(contextT, error) { return func(_ contextT, err error) { r.add(name, err) } }
	return Callbacks{
		OnSignIn:             s("OnSignIn"),
		OnSignOut:            s("OnSignOut"),
		OnSessionUpdate:      s("OnSessionUpdate"),
		OnSessionExpired:     s("OnSessionExpired"),
		OnAccessTokenExpired: s("OnAccessTokenExpired"),
		OnAccessTokenError: func(_ contextT, _ *Session, err error) {
			r.add("OnAccessTokenError", err)
		},
		OnIdTokenExpired: s("OnIdTokenExpired"),
		OnIdTokenError:   e("OnIdTokenError"),
		OnJwtExpired:     s("OnJwtExpired"),
		OnJwtError:       e("OnJwtError"),
	}
}

func names0(calls []advCall) []string {
	out := []string{}
	for _, c := range calls {
		out = append(out, c.name)
	}
	return out
}

// advEnv is the Manager under attack with the credentials an attacker can
// observe or obtain: the IdP's public keys, its own account's cookies.
type advEnv struct {
	clk      *testclock.Clock
	m        *Manager
	rec      *advRecorder
	jwks     *jwksServer
	evil     *jwksServer // the attacker's key server, for jku/x5u
	secret   []byte      // the HS256 shared secret
	alice    *http.Cookie
	aliceBig []*http.Cookie // ≥ 3 chunks
	mallory  []*http.Cookie // another user's chunks
}

const advAZP = "web-app"

func newAdvEnv(t *testing.T) *advEnv {
	t.Helper()
	e := &advEnv{clk: newClock(), rec: &advRecorder{}, secret: randBytes(32)}
	e.jwks = newJWKSServer(t, rsaSigner(), ecSigner(), edSigner())
	e.evil = newJWKSServer(t, advAttacker())
	cfg := testConfig(e.clk, e.jwks.URL)
	cfg.Bearer.AuthorizedParties = []string{advAZP}
	cfg.Bearer.Algorithms = append(slices.Clone(defaultAlgorithms), "HS256")
	cfg.Bearer.StaticKeys = []StaticKey{{ID: "hs-1", Key: e.secret}}
	cfg.Bearer.CookieName = "__session"
	cfg.Callbacks = e.rec.callbacks()
	e.m = mustNew(t, cfg)
	e.alice = signInCookies(t, e.m, SignInParams{User: &User{ID: "alice"}})[0]
	big := bigSession()
	big.User.ID = "alice"
	e.aliceBig = signInCookies(t, e.m, big)
	big.User.ID = "mallory"
	e.mallory = signInCookies(t, e.m, big)
	if len(e.aliceBig) < 3 || len(e.mallory) != len(e.aliceBig) {
		t.Fatalf("chunks: alice %d, mallory %d; want the same number, at least 3", len(e.aliceBig), len(e.mallory))
	}
	e.rec.take()
	return e
}

// advAttacker is a key the attacker holds.
func advAttacker() signer { return signer{KID: "attacker-1", Alg: "RS256", Key: rsaKey2Once()} }

// claims are valid claims for the Manager under attack, changed by kv
// (a nil value deletes the claim).
func advClaims(kv ...any) jwt.MapClaims {
	c := claimsFor(t0)
	c["azp"] = advAZP
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// rawJWT assembles a JWT from a header, claims and a signature, none of
// them checked.
func rawJWT(header map[string]any, claims jwt.MapClaims, sig []byte) string {
	return b64([]byte(mustJSON(header))) + "." + b64([]byte(mustJSON(claims))) + "." + b64(sig)
}

// signWith signs claims with key under alg, with header fields h (a nil
// value deletes the field, so "kid": nil sends no kid).
func signWith(t *testing.T, alg string, key any, claims jwt.MapClaims, h map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	for k, v := range h {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return raw
}

// advOutcome is what an attack must come to.
type advOutcome struct {
	user   string   // the active session's user; "" for none
	err    error    // GetServerSession's error matches it (nil: no error)
	cause  error    // and, when set, this finer cause
	fired  []string // the callbacks the middleware fires, in order
	cbErr  error    // OnJwtError's error matches it, when it fires
	status int      // Require's status for the request as an API call
	code   string   // Require's JSON error code when it refuses
}

var (
	advOK = func(user string) advOutcome {
		return advOutcome{user: user, fired: []string{}, status: http.StatusOK}
	}
	advBadToken = func(cause error) advOutcome {
		return advOutcome{err: ErrInvalidToken, cause: cause, fired: []string{"OnJwtError"}, cbErr: ErrInvalidToken,
			status: http.StatusUnauthorized, code: "invalid_token"}
	}
	advMalformed = func(cause error) advOutcome {
		return advOutcome{err: ErrInvalidToken, cause: cause, fired: []string{"OnJwtError"}, cbErr: errMalformedAuthz,
			status: http.StatusBadRequest, code: "invalid_request"}
	}
	advBadCookie = func(cause error) advOutcome {
		return advOutcome{err: ErrInvalidCookie, cause: cause, fired: []string{"OnJwtError"}, cbErr: ErrInvalidCookie,
			status: http.StatusUnauthorized, code: "invalid_session"}
	}
	advNone = advOutcome{err: ErrNoSession, fired: []string{}, status: http.StatusUnauthorized, code: "unauthenticated"}
)

// advAttack is one row: a request and what it must come to.
type advAttack struct {
	name   string
	authz  []string // Authorization header values
	cookie string   // Cookie header
	target string   // default https://app.example/api
	method string
	body   string
	want   advOutcome
}

func (a advAttack) request() *http.Request {
	target := a.target
	if target == "" {
		target = "https://app.example/api"
	}
	method := a.method
	if method == "" {
		method = http.MethodGet
	}
	var req *http.Request
	if a.body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(a.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if a.authz != nil {
		req.Header["Authorization"] = a.authz
	}
	if a.cookie != "" {
		req.Header.Set("Cookie", a.cookie)
	}
	req.Header.Set("Accept", "application/json")
	return req
}

// run sends the attack through Middleware and through Require and checks
// every part of the outcome.
func (e *advEnv) run(t *testing.T, a advAttack) {
	t.Helper()
	w := a.want
	e.rec.take()
	var c capture
	rec := serve(e.m.Middleware(c.handler(e.m)), a.request())
	fired := e.rec.take()
	if rec.Code != http.StatusOK {
		t.Errorf("Middleware: got status %d, want the handler's 200", rec.Code)
	}
	switch {
	case w.user == "" && c.ok:
		t.Errorf("session: got an active session for %q, want none", c.session.User.ID)
	case w.user != "" && !c.ok:
		t.Errorf("session: got none (%v), want %q", c.srvErr, w.user)
	case w.user != "" && c.session.User.ID != w.user:
		t.Errorf("session: got user %q, want %q", c.session.User.ID, w.user)
	}
	if w.err == nil && c.srvErr != nil {
		t.Errorf("GetServerSession: got %v, want no error", c.srvErr)
	}
	if w.err != nil && !errors.Is(c.srvErr, w.err) {
		t.Errorf("GetServerSession: got %v, want %v", c.srvErr, w.err)
	}
	if w.cause != nil && !errors.Is(c.srvErr, w.cause) {
		t.Errorf("cause: got %v, want %v", c.srvErr, w.cause)
	}
	if got := names0(fired); !slices.Equal(got, w.fired) {
		t.Errorf("callbacks: got %v, want %v", got, w.fired)
	}
	for _, f := range fired {
		if f.name == "OnJwtError" && w.cbErr != nil && !errors.Is(f.err, w.cbErr) {
			t.Errorf("OnJwtError: got %v, want %v", f.err, w.cbErr)
		}
	}

	called := false
	rec = serve(e.m.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })), a.request())
	e.rec.take()
	if rec.Code != w.status {
		t.Errorf("Require: got status %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), w.status)
	}
	if called != (w.status == http.StatusOK) {
		t.Errorf("Require: handler called %v, want %v", called, w.status == http.StatusOK)
	}
	if w.code != "" {
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != w.code {
			t.Errorf("Require: got body %s, want error %q", strings.TrimSpace(rec.Body.String()), w.code)
		}
	}
}

// TestAdversarialBearer attacks the bearer JWT (and the JWT cookie).
func TestAdversarialBearer(t *testing.T) {
	e := newAdvEnv(t)
	rs, att := rsaSigner(), advAttacker()
	rsaKey := rsaKeyOnce()
	bearer := func(raw string) []string { return []string{"Bearer " + raw} }
	good := signWith(t, "RS256", rsaKey, advClaims(), map[string]any{"kid": rs.KID})
	byRSA := func(claims jwt.MapClaims, h map[string]any) []string {
		hh := map[string]any{"kid": rs.KID}
		for k, v := range h {
			hh[k] = v
		}
		return bearer(signWith(t, "RS256", rsaKey, claims, hh))
	}

	// What an attacker learns from the JWKS: the RSA public key, which an
	// HMAC confusion attack uses as the shared secret.
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})
	hs := func(secret []byte, kid any) []string {
		return bearer(signWith(t, "HS256", secret, advClaims(), map[string]any{"kid": kid}))
	}

	none := func(alg string, sig []byte) []string {
		return bearer(rawJWT(map[string]any{"alg": alg, "typ": "JWT", "kid": rs.KID}, advClaims(), sig))
	}
	goodSig, _ := base64.RawURLEncoding.DecodeString(good[strings.LastIndexByte(good, '.')+1:])

	// The attacker's key, offered in the token itself.
	attJWK := att.JWK()
	cert := selfSignedCert(t)
	byAttacker := func(h map[string]any) []string {
		return bearer(signWith(t, "RS256", att.Key, advClaims(), h))
	}

	l := defaultLeeway
	at := func(d time.Duration) int64 { return t0.Add(d).Unix() }

	tests := []advAttack{
		{name: "control: valid RS256", authz: bearer(good), want: advOK("user_1")},
		{name: "control: valid HS256 with the shared secret", authz: hs(e.secret, "hs-1"), want: advOK("user_1")},
		{name: "control: valid ES256", authz: bearer(signWith(t, "ES256", ecKeyOnce(), advClaims(), map[string]any{"kid": "ec-1"})), want: advOK("user_1")},

		// alg: none and its spellings, with and without a signature.
		{name: "alg none", authz: none("none", nil), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "alg None", authz: none("None", nil), want: advBadToken(jwt.ErrTokenUnverifiable)},
		{name: "alg NONE", authz: none("NONE", nil), want: advBadToken(jwt.ErrTokenUnverifiable)},
		{name: "alg nOnE", authz: none("nOnE", nil), want: advBadToken(jwt.ErrTokenUnverifiable)},
		{name: "alg none with a valid RS256 signature", authz: none("none", goodSig), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "alg missing", authz: bearer(rawJWT(map[string]any{"typ": "JWT", "kid": rs.KID}, advClaims(), goodSig)), want: advBadToken(nil)},
		{name: "alg lowercase rs256", authz: bearer(rawJWT(map[string]any{"alg": "rs256", "kid": rs.KID}, advClaims(), goodSig)), want: advBadToken(jwt.ErrTokenUnverifiable)},

		// HMAC keyed with the RSA public key (algorithm confusion), HS256
		// being allowed here.
		{name: "HS256 keyed with the RSA public key (PEM), RSA kid", authz: hs(pubPEM, rs.KID), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "HS256 keyed with the RSA public key (PEM), no kid", authz: hs(pubPEM, nil), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "HS256 keyed with the RSA public key (PKCS#1 PEM), no kid", authz: hs(pkcs1PEM, nil), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "HS256 keyed with the RSA public key (DER), no kid", authz: hs(pubDER, nil), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "HS256 keyed with the JWK modulus, shared secret's kid", authz: hs(rsaKey.N.Bytes(), "hs-1"), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "RS256 header naming the EC key", authz: bearer(signWith(t, "RS256", rsaKey, advClaims(), map[string]any{"kid": "ec-1"})), want: advBadToken(jwtverify.ErrKeyType)},
		{name: "RS256 header with an ES256 signature", authz: bearer(good[:strings.LastIndexByte(good, '.')] + "." +
			func() string {
				s := signWith(t, "ES256", ecKeyOnce(), advClaims(), nil)
				return s[strings.LastIndexByte(s, '.')+1:]
			}()),
			want: advBadToken(jwt.ErrTokenSignatureInvalid)},

		// kid injection.
		{name: "kid path traversal", authz: byRSA(advClaims(), map[string]any{"kid": "../../../../../dev/null"}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "kid path traversal to a key file", authz: byRSA(advClaims(), map[string]any{"kid": "/proc/self/cwd/testdata/key.pem"}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "kid SQL injection", authz: byRSA(advClaims(), map[string]any{"kid": "x' UNION SELECT 'secret' --"}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "kid with a NUL byte", authz: byRSA(advClaims(), map[string]any{"kid": rs.KID + "\x00"}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "kid absurdly long", authz: byRSA(advClaims(), map[string]any{"kid": strings.Repeat("k", 10000)}), want: advBadToken(jwtverify.ErrBadKID)},
		{name: "kid a number", authz: byRSA(advClaims(), map[string]any{"kid": 1}), want: advBadToken(jwtverify.ErrBadKID)},
		{name: "kid an object", authz: byRSA(advClaims(), map[string]any{"kid": map[string]any{"$ne": ""}}), want: advBadToken(jwtverify.ErrBadKID)},
		{name: "kid an array", authz: byRSA(advClaims(), map[string]any{"kid": []string{rs.KID}}), want: advBadToken(jwtverify.ErrBadKID)},
		{name: "kid empty", authz: byRSA(advClaims(), map[string]any{"kid": ""}), want: advBadToken(jwtverify.ErrBadKID)},

		// Keys offered by the token itself are never used or fetched.
		{name: "jku to the attacker's JWKS", authz: byAttacker(map[string]any{"kid": att.KID, "jku": e.evil.URL}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "jku to the attacker's JWKS, victim's kid", authz: byAttacker(map[string]any{"kid": rs.KID, "jku": e.evil.URL}), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "x5u to the attacker's certificate", authz: byAttacker(map[string]any{"kid": att.KID, "x5u": e.evil.URL + "/cert.pem"}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "jwk header embedding the attacker's key, no kid", authz: byAttacker(map[string]any{"kid": nil, "jwk": attJWK}), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "jwk header embedding the attacker's key, its kid", authz: byAttacker(map[string]any{"kid": att.KID, "jwk": attJWK}), want: advBadToken(jwtverify.ErrNoKey)},
		{name: "jwk header embedding the attacker's key, victim's kid", authz: byAttacker(map[string]any{"kid": rs.KID, "jwk": attJWK}), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "x5c header with the attacker's self-signed certificate", authz: byAttacker(map[string]any{"kid": nil, "x5c": []string{cert}}), want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "signed by another key under the victim's kid", authz: bearer(signWith(t, "RS256", att.Key, advClaims(), map[string]any{"kid": rs.KID})), want: advBadToken(jwt.ErrTokenSignatureInvalid)},

		// crit: no extension is understood, so any crit is refused.
		{name: "crit naming a claim", authz: byRSA(advClaims(), map[string]any{"crit": []string{"exp"}}), want: advBadToken(jwtverify.ErrCritHeader)},
		{name: "crit naming an extension", authz: byRSA(advClaims(), map[string]any{"crit": []string{"b64"}, "b64": false}), want: advBadToken(jwtverify.ErrCritHeader)},
		{name: "crit empty", authz: byRSA(advClaims(), map[string]any{"crit": []string{}}), want: advBadToken(jwtverify.ErrCritHeader)},

		// Time claims, around the leeway.
		{name: "expired", authz: byRSA(advClaims("iat", at(-time.Hour), "nbf", at(-time.Hour), "exp", at(-time.Minute)), nil),
			want: advOutcome{err: ErrSessionExpired, cause: ErrTokenExpired, fired: []string{"OnJwtExpired"}, status: http.StatusUnauthorized, code: "invalid_token"}},
		{name: "exp within the leeway", authz: byRSA(advClaims("iat", at(-time.Hour), "nbf", at(-time.Hour), "exp", at(-l+time.Second)), nil), want: advOK("user_1")},
		{name: "exp missing", authz: byRSA(advClaims("exp", nil), nil), want: advBadToken(jwt.ErrTokenRequiredClaimMissing)},
		{name: "exp a string", authz: byRSA(advClaims("exp", "2099-01-01"), nil), want: advBadToken(jwt.ErrInvalidType)},
		{name: "nbf in the future", authz: byRSA(advClaims("nbf", at(l+time.Minute)), nil), want: advBadToken(jwt.ErrTokenNotValidYet)},
		{name: "nbf within the leeway", authz: byRSA(advClaims("nbf", at(l-time.Second)), nil), want: advOK("user_1")},
		{name: "iat in the future beyond the leeway", authz: byRSA(advClaims("iat", at(l+time.Minute)), nil), want: advBadToken(jwt.ErrTokenUsedBeforeIssued)},
		{name: "iat within the leeway", authz: byRSA(advClaims("iat", at(l-time.Second)), nil), want: advOK("user_1")},
		{name: "nbf absurdly far in the future", authz: byRSA(advClaims("nbf", 1e300), nil), want: advBadToken(nil)},
		{name: "iat absurdly far in the future", authz: byRSA(advClaims("iat", 1e19), nil), want: advBadToken(nil)},

		// Issuer, audience, authorized party: tokens meant for someone else.
		{name: "wrong iss", authz: byRSA(advClaims("iss", "https://evil.example"), nil), want: advBadToken(jwt.ErrTokenInvalidIssuer)},
		{name: "iss with a trailing slash", authz: byRSA(advClaims("iss", testIssuer+"/"), nil), want: advBadToken(jwt.ErrTokenInvalidIssuer)},
		{name: "iss in another case", authz: byRSA(advClaims("iss", strings.ToUpper(testIssuer)), nil), want: advBadToken(jwt.ErrTokenInvalidIssuer)},
		{name: "iss missing", authz: byRSA(advClaims("iss", nil), nil), want: advBadToken(jwt.ErrTokenRequiredClaimMissing)},
		{name: "wrong aud", authz: byRSA(advClaims("aud", "api://another-service"), nil), want: advBadToken(jwt.ErrTokenInvalidAudience)},
		{name: "aud list without ours", authz: byRSA(advClaims("aud", []string{"api://a", "api://b"}), nil), want: advBadToken(jwt.ErrTokenInvalidAudience)},
		{name: "aud a prefix of ours", authz: byRSA(advClaims("aud", testAudience[:len(testAudience)-1]), nil), want: advBadToken(jwt.ErrTokenInvalidAudience)},
		{name: "aud missing", authz: byRSA(advClaims("aud", nil), nil), want: advBadToken(jwt.ErrTokenRequiredClaimMissing)},
		{name: "wrong azp", authz: byRSA(advClaims("azp", "other-app"), nil), want: advBadToken(jwtverify.ErrAZP)},
		{name: "azp missing", authz: byRSA(advClaims("azp", nil), nil), want: advBadToken(jwtverify.ErrAZP)},
		{name: "token for another client of the same issuer", authz: byRSA(advClaims("aud", "api://another-service", "azp", "another-client"), nil), want: advBadToken(nil)},
		{name: "an ID token (aud = a client ID) as bearer", authz: byRSA(advClaims("aud", testClientID, "nonce", "n"), nil), want: advBadToken(jwt.ErrTokenInvalidAudience)},

		// The Authorization header itself.
		{name: "two Authorization headers, both valid", authz: []string{"Bearer " + good, "Bearer " + good}, want: advMalformed(errMalformedAuthz)},
		{name: "two Authorization headers, forged first", authz: []string{"Bearer " + none("none", nil)[0][7:], "Bearer " + good}, want: advMalformed(errMalformedAuthz)},
		{name: "two tokens in one header", authz: []string{"Bearer " + good + ", Bearer " + good}, want: advMalformed(errMalformedAuthz)},
		{name: "oversized Authorization header", authz: []string{"Bearer " + strings.Repeat("A", 1<<20)}, want: advMalformed(jwtverify.ErrTooLong)},
		{name: "header with CRLF injection", authz: []string{"Bearer " + good + "\r\nX-Admin: 1"}, want: advMalformed(errMalformedAuthz)},
		{name: "token in the query string is ignored", target: "https://app.example/api?access_token=" + url.QueryEscape(good), want: advNone},
		{name: "token in a form body is ignored", method: http.MethodPost, body: "access_token=" + url.QueryEscape(good), want: advNone},
		{name: "the session cookie value as a bearer token", authz: bearer(e.alice.Value), want: advBadToken(jwt.ErrTokenMalformed)},

		// The JWT cookie gets the same checks.
		{name: "JWT cookie: alg none", cookie: "__session=" + none("none", nil)[0][7:], want: advBadToken(jwt.ErrTokenSignatureInvalid)},
		{name: "JWT cookie: signed by the attacker with jku", cookie: "__session=" + byAttacker(map[string]any{"kid": att.KID, "jku": e.evil.URL})[0][7:], want: advBadToken(jwtverify.ErrNoKey)},
		{name: "JWT cookie: oversized", cookie: "__session=" + strings.Repeat("A", 64<<10), want: advBadToken(jwtverify.ErrTooLong)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { e.run(t, tt) })
	}
	if n := e.evil.Hits.Load(); n != 0 {
		t.Errorf("the attacker's key server was asked %d times, want never", n)
	}
}

// selfSignedCert returns an attacker's self-signed certificate for its
// key, as an x5c entry.
func selfSignedCert(t *testing.T) string {
	t.Helper()
	key := rsaKey2Once()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testIssuer},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// TestAdversarialCookie attacks the session cookie and its chunks.
func TestAdversarialCookie(t *testing.T) {
	e := newAdvEnv(t)
	kv := func(name, value string) string { return name + "=" + value }
	join := func(parts ...string) string { return strings.Join(parts, "; ") }
	chunk := func(cs []*http.Cookie, i int) string { return kv(cs[i].Name, cs[i].Value) }
	all := func(cs []*http.Cookie) []string {
		var out []string
		for i := range cs {
			out = append(out, chunk(cs, i))
		}
		return out
	}
	a, mal := e.aliceBig, e.mallory
	n := len(a)
	name := e.alice.Name

	flip := func(v string, i int) string {
		b := []byte(v)
		b[i] ^= 0x01
		if b[i] == ';' || b[i] == ' ' || b[i] == ',' {
			b[i] ^= 0x03
		}
		return string(b)
	}

	// A cookie sealed with a key that was rotated out.
	oldCfg := testConfig(e.clk, "")
	oldM := mustNew(t, oldCfg)
	rotatedOut := signInCookies(t, oldM, SignInParams{User: &User{ID: "alice"}})[0]
	// The same keys under another cookie name: the MAC binds the name.
	otherCfg := testConfig(e.clk, "")
	otherCfg.Keys = e.m.cfg.Keys
	otherCfg.CookieName = "other"
	otherName := signInCookies(t, mustNew(t, otherCfg), SignInParams{User: &User{ID: "alice"}})[0]

	tenThousand := make([]string, 10000)
	for i := range tenThousand {
		tenThousand[i] = "c" + string(rune('a'+i%26)) + "=" + strings.Repeat("x", i%7)
	}

	tests := []advAttack{
		{name: "control: whole cookie", cookie: kv(name, e.alice.Value), want: advOK("alice")},
		{name: "control: chunked cookie", cookie: join(all(a)...), want: advOK("alice")},
		{name: "control: chunks in another order on the wire", cookie: join(reversed(all(a))...), want: advOK("alice")},

		{name: "one bit flipped in the middle", cookie: kv(name, flip(e.alice.Value, len(e.alice.Value)/2)), want: advBadCookie(seal.ErrNoKey)},
		{name: "one bit flipped in the MAC", cookie: kv(name, flip(e.alice.Value, len(e.alice.Value)-3)), want: advBadCookie(seal.ErrNoKey)},
		{name: "truncated", cookie: kv(name, e.alice.Value[:len(e.alice.Value)/2]), want: advBadCookie(seal.ErrNoKey)},
		{name: "extended", cookie: kv(name, e.alice.Value+"AAAA"), want: advBadCookie(seal.ErrNoKey)},
		{name: "not base64", cookie: kv(name, "!!!!"), want: advBadCookie(seal.ErrNoKey)},
		{name: "a JWT in the session cookie", cookie: kv(name, rsaSigner().Mint(t, claimsFor(t0))), want: advBadCookie(seal.ErrNoKey)},

		// Chunk reordering, duplication, omission.
		{name: "chunks 0 and 1 swapped", cookie: join(append([]string{kv(a[0].Name, a[1].Value), kv(a[1].Name, a[0].Value)}, all(a)[2:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "chunk values reversed", cookie: func() string {
			var p []string
			for i := range a {
				p = append(p, kv(a[i].Name, a[n-1-i].Value))
			}
			return join(p...)
		}(), want: advBadCookie(seal.ErrNoKey)},
		{name: "chunk 1 duplicated into chunk 2", cookie: join(append([]string{chunk(a, 0), chunk(a, 1), kv(a[2].Name, a[1].Value)}, all(a)[3:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "the same chunk sent twice (first one wins)", cookie: join(append(all(a), chunk(a, 1))...), want: advOK("alice")},
		{name: "a forged chunk 0 sent before the real one", cookie: join(append([]string{kv(a[0].Name, "AAAA")}, all(a)...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "chunk 0 missing", cookie: join(all(a)[1:]...), want: advBadCookie(nil)},
		{name: "a middle chunk missing", cookie: join(append([]string{chunk(a, 0)}, all(a)[2:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "the last chunk missing", cookie: join(all(a)[:n-1]...), want: advBadCookie(seal.ErrNoKey)},
		{name: "an extra chunk appended", cookie: join(append(all(a), kv(name+"."+itoa(n), "AAAA"))...), want: advBadCookie(seal.ErrNoKey)},

		// Chunk indexes: gaps, huge values, other spellings.
		{name: "index gap: 0 then 2", cookie: join(chunk(a, 0), chunk(a, 2)), want: advBadCookie(seal.ErrNoKey)},
		{name: "only index 63", cookie: kv(name+".63", e.alice.Value), want: advBadCookie(nil)},
		{name: "only index 64 (never written)", cookie: kv(name+".64", e.alice.Value), want: advNone},
		{name: "only index 999999", cookie: kv(name+".999999", e.alice.Value), want: advNone},
		{name: "index 2^64 beside a valid session", cookie: join(append(all(a), kv(name+".18446744073709551616", "AAAA"))...), want: advOK("alice")},
		{name: "index 9999 beside a valid session", cookie: join(append(all(a), kv(name+".9999", "AAAA"))...), want: advOK("alice")},
		{name: "leading-zero index .01 for chunk 1", cookie: join(append([]string{chunk(a, 0), kv(name+".01", a[1].Value)}, all(a)[2:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "negative index .-1", cookie: kv(name+".-1", e.alice.Value), want: advNone},
		{name: "signed index .+1 for chunk 1", cookie: join(append([]string{chunk(a, 0), kv(name+".+1", a[1].Value)}, all(a)[2:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "signed index .-0 alone", cookie: kv(name+".-0", e.alice.Value), want: advNone},

		// Two sessions' chunks mixed.
		{name: "alice's chunk 0 with mallory's others", cookie: join(append([]string{chunk(a, 0)}, all(mal)[1:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "mallory's chunk 0 with alice's others", cookie: join(append([]string{chunk(mal, 0)}, all(a)[1:]...)...), want: advBadCookie(seal.ErrNoKey)},
		{name: "alternate chunks of two sessions", cookie: func() string {
			var p []string
			for i := range a {
				if i%2 == 0 {
					p = append(p, chunk(a, i))
				} else {
					p = append(p, chunk(mal, i))
				}
			}
			return join(p...)
		}(), want: advBadCookie(seal.ErrNoKey)},

		// Sizes.
		{name: "oversized whole cookie", cookie: kv(name, strings.Repeat("A", 256<<10)), want: advBadCookie(nil)},
		{name: "oversized chunks", cookie: func() string {
			var p []string
			for i := range 64 {
				p = append(p, kv(name+"."+itoa(i), strings.Repeat("B", 4000)))
			}
			return join(p...)
		}(), want: advBadCookie(nil)},
		{name: "10,000 unrelated cookies beside the session", cookie: join(append(tenThousand, kv(name, e.alice.Value))...), want: advOK("alice")},

		// Keys and names.
		{name: "sealed with a rotated-out key", cookie: kv(name, rotatedOut.Value), want: advBadCookie(seal.ErrNoKey)},
		{name: "sealed for another cookie name with the same keys", cookie: kv(name, otherName.Value), want: advBadCookie(seal.ErrNoKey)},
		{name: "valid value under a lookalike name", cookie: kv(strings.ToLower(name), e.alice.Value), want: advNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { e.run(t, tt) })
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func reversed(s []string) []string {
	c := slices.Clone(s)
	slices.Reverse(c)
	return c
}

// Oversized request headers are refused with a 4xx, never a 5xx, whether
// net/http refuses them (past MaxHeaderBytes) or they reach Require. The
// request is written on a raw connection, so that a server that answers
// before reading it all is still heard.
func TestAdversarialOversizedHeadersOverHTTP(t *testing.T) {
	e := newAdvEnv(t)
	srv := httptest.NewServer(e.m.Require(http.NotFoundHandler()))
	t.Cleanup(srv.Close) // after the parallel subtests
	tests := []struct {
		name   string
		header string
		value  string
		want   int
	}{
		{"cookie of 512 KiB reaches Require", "Cookie", e.alice.Name + "=" + strings.Repeat("A", 512<<10), http.StatusUnauthorized},
		{"cookie past MaxHeaderBytes", "Cookie", e.alice.Name + "=" + strings.Repeat("A", 2<<20), http.StatusRequestHeaderFieldsTooLarge},
		{"Authorization of 512 KiB reaches Require", "Authorization", "Bearer " + strings.Repeat("A", 512<<10), http.StatusBadRequest},
		{"Authorization past MaxHeaderBytes", "Authorization", "Bearer " + strings.Repeat("A", 2<<20), http.StatusRequestHeaderFieldsTooLarge},
		{"5,000 Cookie header lines", "Cookie", strings.Repeat("a=b\r\nCookie: ", 5000) + "c=d", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			go func() {
				_, _ = io.WriteString(conn, "GET /api HTTP/1.1\r\nHost: app.example\r\nAccept: application/json\r\n"+
					tt.header+": "+tt.value+"\r\nConnection: close\r\n\r\n")
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// Session fixation: a session cookie planted before sign-in (the
// attacker's own, valid one, chunked or not) is never promoted. SignIn
// issues a new session ID and sign-in ID for the victim and replaces or
// expires every planted cookie, so the browser ends up with the victim's
// session only.
func TestAdversarialSessionFixation(t *testing.T) {
	e := newAdvEnv(t)
	planted := map[string][]*http.Cookie{
		"whole":   {signInCookies(t, e.m, SignInParams{User: &User{ID: "mallory"}})[0]},
		"chunked": e.mallory,
		"forged":  {{Name: e.alice.Name, Value: "AAAA"}},
	}
	for name, cookies := range planted {
		t.Run(name, func(t *testing.T) {
			before, _ := e.m.GetServerSession(requestWith("https://app.example/", cookies))
			rec := httptest.NewRecorder()
			s, err := e.m.SignIn(rec, requestWith("https://app.example/callback", cookies), SignInParams{User: &User{ID: "victim"}})
			if err != nil {
				t.Fatal(err)
			}
			if before != nil && (s.ID == before.ID || s.SignIn.ID == before.SignIn.ID) {
				t.Fatalf("planted session ID %s kept", before.ID)
			}
			// Apply the response to the planted cookies as a browser's jar
			// would, then read the session back.
			jar := map[string]string{}
			for _, c := range cookies {
				jar[c.Name] = c.Value
			}
			for _, c := range rec.Result().Cookies() {
				if c.MaxAge < 0 {
					delete(jar, c.Name)
				} else {
					jar[c.Name] = c.Value
				}
			}
			req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
			for k, v := range jar {
				req.AddCookie(&http.Cookie{Name: k, Value: v})
			}
			got, err := e.m.GetServerSession(req)
			if err != nil || got.User.ID != "victim" || got.ID != s.ID {
				t.Fatalf("after sign-in: got %v (%v), want the victim's new session %s; jar %v", got, err, s.ID, slices.Sorted(maps.Keys(jar)))
			}
			if len(jar) != 1 {
				t.Errorf("planted cookies left behind: %v", slices.Sorted(maps.Keys(jar)))
			}
		})
	}
}

// rotatingIdP is a token endpoint that rotates refresh tokens and detects
// reuse as providers do (RFC 9700 4.14.2): a rotated-out refresh token
// presented again revokes the whole family, so that neither the thief nor
// the victim can go on with it.
type rotatingIdP struct {
	clk   *testclock.Clock
	mu    sync.Mutex
	n     int
	live  map[string]bool // refresh tokens that may be used
	dead  map[string]bool // rotated-out refresh tokens
	calls int
	reuse int
}

func (p *rotatingIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := r.PostFormValue("refresh_token")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	switch {
	case p.live[rt]:
		delete(p.live, rt)
		p.dead[rt] = true
		p.n++
		next := "rt-" + itoa(p.n)
		p.live[next] = true
		tokenJSON(w, map[string]any{"access_token": "at-" + itoa(p.n), "token_type": "Bearer", "refresh_token": next,
			"expires_in": expiresIn(p.clk, time.Minute)})
	default:
		if p.dead[rt] {
			p.reuse++
			clear(p.live) // the family is revoked
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
	}
}

// Refresh-token reuse after rotation: the first wave refreshes once and
// rotates the token; while the new access token lives the old cookie gets
// the new tokens without a call; after that, a second wave replaying the old cookie
// (a stale tab, or a thief) sends the rotated-out token once, the provider
// revokes the family, and every request of the wave keeps its session,
// flagged, with the dead token dropped. The legitimate cookie's next
// refresh is refused as well; it too is flagged, never lost or crashed.
func TestAdversarialRefreshTokenReuse(t *testing.T) {
	clk := newClock()
	idp := &rotatingIdP{clk: clk, live: map[string]bool{"rt-0": true}, dead: map[string]bool{}}
	srv := httptest.NewServer(idp)
	defer srv.Close()
	rec := &advRecorder{}
	m := mustNew(t, refreshConfig(clk, srv.URL, func(c *Config) { c.Callbacks = rec.callbacks() }))
	old := signInCookies(t, m, SignInParams{Token: tokenOf("at-0", "rt-0", t0.Add(time.Minute)), Provider: "idp", User: &User{ID: "u"}})
	clk.Advance(time.Minute)

	type seen struct {
		c       *capture
		cookies []*http.Cookie
		code    int
	}
	wave := func(n int, cookies []*http.Cookie) []seen {
		out := make([]seen, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c capture
				resp := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
				out[i] = seen{&c, mergeCookies(cookies, resp.Result().Cookies()), resp.Code}
			}()
		}
		wg.Wait()
		return out
	}
	calls := func() int { idp.mu.Lock(); defer idp.mu.Unlock(); return idp.calls }
	reuses := func() int { idp.mu.Lock(); defer idp.mu.Unlock(); return idp.reuse }

	first := wave(10, old)
	if calls() != 1 {
		t.Fatalf("first wave: %d token calls, want 1", calls())
	}
	for i, s := range first {
		if s.code != http.StatusOK || !s.c.ok || s.c.session.AccessToken != "at-1" || s.c.session.RefreshToken != "rt-1" {
			t.Fatalf("first wave, request %d: code %d ok %v tokens %q/%q, want at-1/rt-1", i, s.code, s.c.ok, s.c.session.AccessToken, s.c.session.RefreshToken)
		}
	}
	current := first[0].cookies
	rec.take()

	clk.Advance(refresh.Grace / 2)
	if s := wave(1, old)[0]; s.c.session.AccessToken != "at-1" || calls() != 1 {
		t.Fatalf("old cookie within the grace window: token %q, %d calls; want at-1 and no call", s.c.session.AccessToken, calls())
	}
	rec.take()

	// Past the grace window, the old cookie still gets the newest tokens
	// while the new access token lives: the rotation is remembered.
	clk.Advance(refresh.Grace)
	if s := wave(1, old)[0]; s.c.session.AccessToken != "at-1" || calls() != 1 {
		t.Fatalf("old cookie while at-1 lives: token %q, %d calls; want at-1 and no call", s.c.session.AccessToken, calls())
	}
	rec.take()

	// Once the remembered outcome is gone (at-1 expired), a replay of the
	// old cookie sends the rotated-out token: the stateless limit, which a
	// Store closes.
	clk.Advance(time.Minute)
	second := wave(10, old)
	if calls() != 2 || reuses() != 1 {
		t.Fatalf("second wave: %d token calls (reuse detected %d times), want exactly one more call", calls(), reuses())
	}
	for i, s := range second {
		if s.code != http.StatusOK || !s.c.ok || s.c.session.User.ID != "u" {
			t.Fatalf("second wave, request %d: code %d ok %v; want the session kept", i, s.code, s.c.ok)
		}
		if s.c.session.Error != RefreshAccessTokenError || s.c.session.RefreshToken != "" {
			t.Errorf("second wave, request %d: error %q refresh token %q, want the flag and the token dropped", i, s.c.session.Error, s.c.session.RefreshToken)
		}
	}
	invalid := 0
	for _, c := range rec.take() {
		if c.name == "OnAccessTokenError" && errors.Is(c.err, ErrRefreshTokenInvalid) {
			invalid++
		}
	}
	if invalid != len(second) {
		t.Errorf("OnAccessTokenError with ErrRefreshTokenInvalid fired %d times, want %d (once per request)", invalid, len(second))
	}
	// The replayed cookie, re-issued without a refresh token, never sends
	// one again.
	before := calls()
	wave(3, second[0].cookies)
	if calls() != before {
		t.Errorf("the flagged cookie caused %d more token calls", calls()-before)
	}

	// The legitimate holder's next refresh meets the revoked family.
	clk.Advance(time.Minute)
	s := wave(1, current)[0]
	if s.code != http.StatusOK || !s.c.ok || s.c.session.Error != RefreshAccessTokenError || s.c.session.RefreshToken != "" {
		t.Fatalf("legitimate cookie after the revocation: code %d ok %v error %q refresh %q; want kept, flagged, token dropped",
			s.code, s.c.ok, s.c.session.Error, s.c.session.RefreshToken)
	}
}
