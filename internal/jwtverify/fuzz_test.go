package jwtverify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// FuzzBearerJWT builds JWTs from fuzzed header and claims JSON, signs them
// with the trusted key (mode 0), an attacker's key (mode 1) or not at all
// (mode 2), and runs them through the verifier. It checks, against
// its own reading of the JSON, that:
//   - nothing the trusted key did not sign is ever accepted, whatever the
//     header says (alg, kid, jwk, jku, x5u, crit ...);
//   - an accepted token names an allowed alg, no crit, a known kid, our
//     issuer and audience, an exp not yet past and no nbf or iat in the
//     future (all with the leeway);
//   - a token reported as expired has passed every check but exp.
func FuzzBearerJWT(f *testing.F) {
	clk := testclock.New(t0)
	trusted := edSigner()
	_, attacker, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	cfg := testConfig(clk)
	cfg.Algorithms = []string{"RS256", "ES256", "EdDSA"}
	cfg.StaticKeys = []Key{{ID: trusted.KID, Key: trusted.Public()}}
	v := mustVerifier(f, cfg)
	leeway := cfg.Leeway

	hdr := func(kv ...any) []byte {
		h := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": trusted.KID}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(h, kv[i].(string))
			} else {
				h[kv[i].(string)] = kv[i+1]
			}
		}
		return []byte(mustJSON(h))
	}
	cl := func(kv ...any) []byte {
		c := claimsFor(t0)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return []byte(mustJSON(c))
	}
	good := cl()
	for _, seed := range []struct {
		h, c []byte
		mode byte
	}{
		{hdr(), good, 0},
		{hdr("kid", nil), good, 0},
		{hdr(), good, 1},
		{hdr(), good, 2},
		{hdr("alg", "none"), good, 2},
		{hdr("alg", "NONE"), good, 2},
		{hdr("alg", "HS256"), good, 0},
		{hdr("alg", "RS256"), good, 0},
		{hdr("crit", []string{"exp"}), good, 0},
		{hdr("kid", "../../etc/passwd"), good, 0},
		{hdr("kid", 7), good, 0},
		{hdr("jku", "https://evil.example/jwks"), good, 1},
		{hdr("jwk", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(attacker.Public().(ed25519.PublicKey))}), good, 1},
		{hdr(), cl("exp", nil), 0},
		{hdr(), cl("exp", t0.Add(-time.Hour).Unix()), 0},
		{hdr(), cl("exp", "tomorrow"), 0},
		{hdr(), cl("exp", 1.5e9), 0},
		{hdr(), cl("nbf", t0.Add(time.Hour).Unix()), 0},
		{hdr(), cl("iat", t0.Add(time.Hour).Unix()), 0},
		{hdr(), cl("iss", "https://evil.example"), 0},
		{hdr(), cl("aud", []string{"x", testAudience}), 0},
		{hdr(), cl("aud", []any{1, testAudience}), 0},
		{hdr(), cl("aud", nil), 0},
		{hdr(), []byte("null"), 0},
		{hdr(), []byte(`{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":1e300}`), 0},
		{[]byte(`{"alg":"EdDSA","alg":"none"}`), good, 0},
		{[]byte("{"), good, 0},
	} {
		f.Add(seed.h, seed.c, seed.mode)
	}

	f.Fuzz(func(t *testing.T, header, claims []byte, mode byte) {
		mode %= 3
		signing := b64(header) + "." + b64(claims)
		var sig []byte
		switch mode {
		case 0:
			sig = ed25519.Sign(trusted.Key.(ed25519.PrivateKey), []byte(signing))
		case 1:
			sig = ed25519.Sign(attacker, []byte(signing))
		}
		got, _, err := v.Verify(context.Background(), signing+"."+b64(sig))
		if got == nil && err == nil {
			t.Fatal("no claims and no error")
		}
		if got == nil {
			if errors.Is(err, ErrExpired) {
				t.Fatalf("refused without claims as expired: %v", err)
			}
			return
		}
		if mode != 0 {
			t.Fatalf("a token the trusted key did not sign was accepted (mode %d): %v", mode, err)
		}
		expired := err != nil
		if expired && !errors.Is(err, ErrExpired) {
			t.Fatalf("claims returned with an error that is not expiry: %v", err)
		}
		if why := violates(header, claims, clk.Now(), leeway, expired); why != "" {
			t.Fatalf("accepted (expired=%v) a token that %s\nheader %s\nclaims %s", expired, why, header, claims)
		}
	})
}

// violates reports why a token with this header and these claims must not
// be accepted at now, or "" if it may be. With expired, exp must be past.
func violates(header, claims []byte, now time.Time, leeway time.Duration, expired bool) string {
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		return "has a header that is not a JSON object"
	}
	if h["alg"] != "EdDSA" {
		return "names an alg the key does not verify"
	}
	if _, ok := h["crit"]; ok {
		return "has a crit header"
	}
	if kid, ok := h["kid"]; ok && kid != "ed-1" {
		return "names another kid"
	}
	var c map[string]any
	d := json.NewDecoder(bytes.NewReader(claims))
	d.UseNumber()
	if err := d.Decode(&c); err != nil || c == nil {
		return "has claims that are not a JSON object"
	}
	if c["iss"] != testIssuer {
		return "names another issuer"
	}
	switch aud := c["aud"].(type) {
	case string:
		if aud != testAudience {
			return "names another audience"
		}
	case []any:
		found := false
		for _, a := range aud {
			if _, ok := a.(string); !ok {
				return "has a non-string audience"
			}
			found = found || a == testAudience
		}
		if !found {
			return "does not name our audience"
		}
	default:
		return "has no audience"
	}
	secs := func(name string) (float64, bool, string) {
		v, ok := c[name]
		if !ok {
			return 0, false, ""
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, true, "has a non-numeric " + name
		}
		f, err := n.Float64()
		if err != nil {
			return 0, true, "has an unparsable " + name
		}
		return f, true, ""
	}
	nowS, lw := float64(now.Unix()), leeway.Seconds()
	// jwt converts seconds to time.Time through int64: a value past ±2^63
	// wraps. TestVerifyCauses ("nbf past year 2262") covers such values;
	// skip them here so that the fuzzer keeps looking for other faults.
	const wraps = 9.2e18
	exp, ok, bad := secs("exp")
	switch {
	case bad != "":
		return bad
	case !ok:
		return "has no exp"
	case math.Abs(exp) >= wraps:
	case !expired && exp+lw+1 <= nowS:
		return "has expired"
	case expired && exp+lw-1 > nowS:
		return "is reported expired before its exp"
	}
	for _, name := range []string{"nbf", "iat"} {
		v, ok, bad := secs(name)
		switch {
		case bad != "":
			return bad
		case !ok || math.Abs(v) >= wraps:
		case v-lw-1 >= nowS:
			return "has " + name + " in the future"
		}
	}
	return ""
}

// FuzzJWKS serves a fuzzed JWK Set: never a panic, and no token signed by a
// key the fuzzer cannot know (generated afresh each run, never in the
// corpus) is ever accepted, with or without kid.
func FuzzJWKS(f *testing.F) {
	var body atomic.Pointer[[]byte]
	empty := []byte(`{"keys":[]}`)
	body.Store(&empty)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(*body.Load()) }))
	defer srv.Close()
	cfg := testConfig(testclock.New(t0), srv.URL)
	// No fetch is ever started by a token: the target calls fetchAll itself.
	cfg.MinRefreshInterval = 1 << 62
	v := mustVerifier(f, cfg)
	ks := v.jwks
	ks.limiter.Allow() // spend the only burst

	_, unknownKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	forged := []string{
		signer{KID: "ed-1", Alg: "EdDSA", Key: unknownKey}.Mint(f, claimsFor(t0)),
		signer{Alg: "EdDSA", Key: unknownKey}.Mint(f, claimsFor(t0)),
		signer{KID: "rsa-1", Alg: "RS256", Key: rsaKey2Once()}.Mint(f, claimsFor(t0)),
	}
	honest := []string{rsaSigner().Mint(f, claimsFor(t0)), edSigner().Mint(f, claimsFor(t0))}

	enc := edSigner().JWK()
	enc["use"] = "enc"
	pinned := rsaSigner().JWK()
	pinned["alg"] = "RS512"
	oct := map[string]any{"kty": "oct", "kid": "ed-1", "k": b64(randBytes(32))}
	for _, seed := range []string{
		string(jwksBody(rsaSigner(), edSigner(), ecSigner())),
		`{"keys":[` + mustJSON(enc) + `]}`,
		`{"keys":[` + mustJSON(pinned) + `]}`,
		`{"keys":[` + mustJSON(oct) + `]}`,
		`{"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","kid":"x","n":"` + strings.Repeat("_", 2000) + `","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":""}]}`,
		`{"keys":[{"kty":"OKP","crv":"X25519","x":"` + b64(make([]byte, 32)) + `"}]}`,
		`{"keys":null}`, `{"keys":{}}`, `{}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, set []byte) {
		body.Store(&set)
		ks.fetchAll()
		for _, raw := range forged {
			if claims, _, err := v.Verify(context.Background(), raw); err == nil || claims != nil {
				t.Fatalf("a token signed by an unknown key was accepted (err %v)", err)
			}
		}
		for _, raw := range honest {
			_, _, _ = v.Verify(context.Background(), raw)
		}
	})
}
