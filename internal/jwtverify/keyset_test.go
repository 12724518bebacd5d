package jwtverify

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// Concurrent requests naming the same new key share one fetch.
func TestKeySetConcurrentUnknownKIDsShareOneFetch(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	v := mustVerifier(t, testConfig(testclock.New(t0), jwks.URL))
	start := jwks.Hits.Load()
	jwks.SetSigners(rsaSigner(), rsa2Signer())
	jwks.Delay.Store(int64(200 * time.Millisecond))
	raw := rsa2Signer().Mint(t, claimsFor(t0))
	var wg sync.WaitGroup
	fails := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := verifyErr(v, raw); err != nil {
				fails <- err
			}
		}()
	}
	wg.Wait()
	close(fails)
	for err := range fails {
		t.Errorf("a request sharing the fetch failed: %v", err)
	}
	if got := jwks.Hits.Load() - start; got != 1 {
		t.Errorf("fetches: got %d, want 1", got)
	}
	if v.Generation() < 2 {
		t.Errorf("generation: got %d, want it advanced by the second fetch", v.Generation())
	}
}

// A request waiting for a running fetch leaves when its own context ends.
func TestKeySetWaitHonoursRequestContext(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	v := mustVerifier(t, testConfig(testclock.New(t0), jwks.URL))
	jwks.Delay.Store(int64(2 * time.Second))
	defer jwks.Delay.Store(0)
	// The token is made first: making the RSA key can take a second on a
	// loaded machine, and only the wait is timed.
	tok := signer{KID: "new", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0))
	v.jwks.start() // a slow fetch is running
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, _, err := v.Verify(ctx, tok)
	if err == nil {
		t.Fatal("accepted")
	}
	if d := time.Since(began); d > 500*time.Millisecond {
		t.Errorf("held for %v past a 20ms context", d)
	}
}

// Unknown kids past the first fetch a minimum interval allows are refused
// at once, without a fetch.
func TestKeySetUnknownKIDRateLimited(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	cfg := testConfig(testclock.New(t0), jwks.URL)
	var unknown atomic.Int32
	cfg.OnUnknownKey = func() { unknown.Add(1) }
	v := mustVerifier(t, cfg)
	if got := v.Keys(); got != 1 {
		t.Errorf("keys held: got %d, want 1", got)
	}
	start := jwks.Hits.Load()
	for i := 0; i < 5; i++ {
		if err := verifyErr(v, signer{KID: "unknown", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0))); err == nil {
			t.Fatal("accepted an unknown kid")
		}
	}
	if got := jwks.Hits.Load() - start; got != 1 {
		t.Errorf("fetches: got %d, want 1", got)
	}
	if got := unknown.Load(); got != 1 {
		t.Errorf("OnUnknownKey: got %d calls, want 1, for the one fetch", got)
	}
}

func TestKeySetResponses(t *testing.T) {
	good := string(jwksBody(rsaSigner()))
	tests := []struct {
		name    string
		status  int
		body    string
		wantKey bool
	}{
		{"a key set", 0, good, true},
		{"500 with a key set is ignored", http.StatusInternalServerError, good, false},
		{"404 is ignored", http.StatusNotFound, good, false},
		{"one bad key is skipped, the rest kept", 0, `{"keys":[{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"},{"kty":"weird","kid":"x"},` + mustJSON(rsaSigner().JWK()) + `]}`, true},
		{"encryption keys are not used", 0, strings.ReplaceAll(good, `"use":"sig"`, `"use":"enc"`), false},
		{"not json", 0, `<html>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwks := newJWKSServer(t)
			jwks.Status.Store(int64(tt.status))
			jwks.SetBody([]byte(tt.body))
			v := mustVerifier(t, testConfig(testclock.New(t0), jwks.URL))
			err := verifyErr(v, rsaSigner().Mint(t, claimsFor(t0)))
			if (err == nil) != tt.wantKey {
				t.Errorf("got %v, want key %v", err, tt.wantKey)
			}
		})
	}
}

// Keys held stay in use while the endpoint is down, and a failed fetch is
// logged without the URL's password or query.
func TestKeySetDownKeepsKeysAndRedacts(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	secretURL := strings.Replace(jwks.URL, "http://", "http://user:hunter2@", 1) + "/keys?api_key=s3cr3t"
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg := testConfig(testclock.New(t0), secretURL)
	cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), nil))
	v := mustVerifier(t, cfg)
	jwks.Down.Store(true)
	<-v.jwks.start()
	if err := verifyErr(v, rsaSigner().Mint(t, claimsFor(t0))); err != nil {
		t.Fatalf("a held key stopped working while the endpoint is down: %v", err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "JWKS fetch failed") {
		t.Errorf("failure not logged: %s", out)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cr3t") {
		t.Errorf("the log leaks the URL's secrets: %s", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Requests that race Wait neither panic nor leave a fetch behind.
func TestKeySetCloseRacesRequests(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	cfg := testConfig(testclock.New(t0), jwks.URL)
	cfg.MinRefreshInterval = time.Nanosecond
	ctx, cancel := context.WithCancel(context.Background())
	v, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				_ = verifyErr(v, signer{KID: "unknown", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)))
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	cancel()
	v.Wait()
	wg.Wait()
	if ch := v.jwks.start(); ch != closedCh {
		t.Error("a fetch started after Wait")
	}
}
