package e2e

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit"
)

// concurrently sends n requests with cookies at once and returns what each
// handler saw.
func (w *world) concurrently(n int, cookies []*cookieJar) []seen {
	out := make([]seen, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = w.get(context.Background(), cookies[i%len(cookies)].c)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

type cookieJar struct{ c []*http.Cookie }

func TestRefreshConcurrentRequestsShareOneRefresh(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jar := w.signInExpiring(-time.Second) // the access token has just expired
	before := w.peek(jar)
	if before.RefreshToken == "" {
		t.Fatal("signed-in session has no refresh token")
	}
	w.cb.take() // peek fired OnAccessTokenExpired
	oldAT := before.AccessToken

	got := w.concurrently(100, []*cookieJar{{jar}})
	if n := w.op.Refreshes(); n != 1 {
		t.Fatalf("token endpoint refresh calls: got %d, want 1", n)
	}
	newAT := got[0].session.AccessToken
	if newAT == oldAT || newAT == "" {
		t.Fatalf("access token not refreshed")
	}
	for i, s := range got {
		if !s.ok || s.session.AccessToken != newAT || s.session.Error != "" {
			t.Fatalf("request %d: got ok=%v token changed=%v error=%q, want the new token", i, s.ok, s.session.AccessToken != newAT, s.session.Error)
		}
		if len(s.cookies) == 0 {
			t.Fatalf("request %d: the refreshed session was not written back", i)
		}
	}
	names, _ := w.cb.take()
	if c := count(names, "OnSessionUpdate"); c != 1 {
		t.Errorf("OnSessionUpdate: fired %d times, want 1 (%v)", c, names)
	}
	if c := count(names, "OnAccessTokenExpired"); c != 0 {
		t.Errorf("OnAccessTokenExpired fired %d times for a refreshed token", c)
	}

	// The new cookie carries the new tokens and is not refreshed again.
	jar2 := merge(jar, got[0].cookies)
	after := w.get(context.Background(), jar2)
	if after.session.AccessToken != newAT || len(after.cookies) != 0 {
		t.Fatalf("new cookie: got token changed=%v, %d Set-Cookie; want the refreshed token and no re-issue", after.session.AccessToken != newAT, len(after.cookies))
	}
	if after.session.RefreshToken == before.RefreshToken {
		t.Error("the rotated refresh token was not kept")
	}
	if n := w.op.Refreshes(); n != 1 {
		t.Fatalf("refresh calls after: got %d, want 1", n)
	}
}

// Two waves of requests around the rotation: the second still carries the
// old cookie, and must not send the rotated-out refresh token again (the
// provider would revoke the whole token family).
func TestRefreshTwoWavesAroundRotation(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jar := w.signInExpiring(-time.Second)
	wave1 := w.concurrently(50, []*cookieJar{{jar}})
	w.clk.Advance(2 * time.Second)
	wave2 := w.concurrently(50, []*cookieJar{{jar}})
	if n := w.op.Refreshes(); n != 1 {
		t.Fatalf("refresh calls: got %d, want 1", n)
	}
	at := wave1[0].session.AccessToken
	for i, s := range append(wave1, wave2...) {
		if s.session.AccessToken != at || s.session.Error != "" {
			t.Fatalf("request %d: got another token or error %q", i, s.session.Error)
		}
	}
	// The family is intact: the rotated token refreshes again later.
	jar = merge(jar, wave2[0].cookies)
	w.clk.Advance(5*time.Minute + time.Second)
	third := w.get(context.Background(), jar)
	if third.session.Error != "" || third.session.AccessToken == at {
		t.Fatalf("next refresh: got error %q, token changed=%v", third.session.Error, third.session.AccessToken != at)
	}
	if n := w.op.Refreshes(); n != 2 {
		t.Fatalf("refresh calls: got %d, want 2", n)
	}
}

func TestRefreshInvalidGrantKeepsTheSession(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jar := w.signInExpiring(-time.Second)
	w.op.RevokeRefreshTokens()
	got := w.get(context.Background(), jar)
	if !got.ok || got.session.Error != sessionkit.RefreshAccessTokenError {
		t.Fatalf("got ok=%v error=%q, want the session kept with %s", got.ok, got.session.Error, sessionkit.RefreshAccessTokenError)
	}
	if got.session.RefreshToken != "" {
		t.Error("a refused refresh token stayed in the session")
	}
	names, errs := w.cb.take()
	if !slices.Contains(names, "OnAccessTokenError") || !slices.Contains(names, "OnAccessTokenExpired") {
		t.Errorf("callbacks: got %v, want OnAccessTokenError and OnAccessTokenExpired", names)
	}
	if len(errs) != 1 || !errors.Is(errs[0], sessionkit.ErrRefreshTokenInvalid) || !errors.Is(errs[0], sessionkit.ErrRefreshFailed) {
		t.Errorf("OnAccessTokenError err: got %v, want ErrRefreshTokenInvalid", errs)
	}
	// The written cookie has no refresh token: no further token calls.
	jar = merge(jar, got.cookies)
	w.clk.Advance(time.Minute)
	again := w.get(context.Background(), jar)
	if !again.ok || again.session.Error != sessionkit.RefreshAccessTokenError {
		t.Fatalf("next request: got ok=%v error=%q", again.ok, again.session.Error)
	}
	if n := w.op.Refreshes(); n != 1 {
		t.Fatalf("refresh calls: got %d, want 1", n)
	}
}

func TestRefreshTransientFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
	}{
		{"500", status500},
		{"hangs past the timeout", hang},
		{"malformed JSON", malformedJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{})
			jar := w.signInExpiring(-time.Second)
			before := w.peek(jar)
			w.cb.take()
			w.proxy.fault.Store(int32(tt.fault))

			start := time.Now()
			got := w.get(context.Background(), jar)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("the request waited %v, past the 2s refresh timeout", el)
			}
			if !got.ok || got.session.Error != sessionkit.RefreshAccessTokenError {
				t.Fatalf("got ok=%v error=%q, want the session kept with the error", got.ok, got.session.Error)
			}
			if got.session.RefreshToken != before.RefreshToken {
				t.Fatal("a transient failure dropped the refresh token")
			}
			_, errs := w.cb.take()
			if len(errs) != 1 || !errors.Is(errs[0], sessionkit.ErrRefreshFailed) || errors.Is(errs[0], sessionkit.ErrRefreshTokenInvalid) {
				t.Fatalf("OnAccessTokenError err: got %v, want a transient ErrRefreshFailed", errs)
			}
			if strings.Contains(errs[0].Error(), before.RefreshToken) {
				t.Fatal("the error quotes the refresh token")
			}
			jar = merge(jar, got.cookies)

			// Within the backoff: no new attempt, the error stays.
			calls := w.op.Refreshes()
			w.proxy.fault.Store(int32(passThrough))
			if s := w.get(context.Background(), jar); s.session.Error != sessionkit.RefreshAccessTokenError || w.op.Refreshes() != calls {
				t.Fatalf("within the backoff: got error %q and %d new calls", s.session.Error, w.op.Refreshes()-calls)
			}
			// After it, the fault has cleared: the refresh succeeds.
			w.clk.Advance(3 * time.Second)
			ok := w.get(context.Background(), jar)
			if ok.session.Error != "" || ok.session.AccessToken == before.AccessToken {
				t.Fatalf("after the backoff: got error %q, token changed=%v", ok.session.Error, ok.session.AccessToken != before.AccessToken)
			}
		})
	}
}

func TestRefreshRejectsForgedIDToken(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(string) string
	}{
		{"bad signature", func(raw string) string {
			parts := strings.Split(raw, ".")
			sig := []byte(parts[2])
			sig[5] ^= 1
			return parts[0] + "." + parts[1] + "." + string(sig)
		}},
		{"not a JWT", func(string) string { return "garbage" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{})
			jar := w.signInExpiring(-time.Second)
			before := w.peek(jar)
			w.cb.take()
			w.proxy.rewriteIDToken = tt.rewrite
			w.proxy.fault.Store(int32(forgedIDToken))
			got := w.get(context.Background(), jar)
			if !got.ok || got.session.Error != sessionkit.RefreshAccessTokenError || got.session.IDToken != before.IDToken {
				t.Fatalf("got ok=%v error=%q, id token kept=%v; want the old session flagged", got.ok, got.session.Error, got.session.IDToken == before.IDToken)
			}
			names, errs := w.cb.take()
			if !slices.Contains(names, "OnIdTokenError") {
				t.Errorf("callbacks: got %v, want OnIdTokenError", names)
			}
			if len(errs) < 2 || !errors.Is(errs[len(errs)-1], sessionkit.ErrInvalidToken) {
				t.Errorf("errors: got %v, want ErrInvalidToken", errs)
			}
		})
	}
}

// A provider with 20-second tokens is refreshed once per 10 seconds (half
// the lifetime), not on every request, although the leeway is a minute.
func TestRefreshLeewayCappedAtHalfLifetime(t *testing.T) {
	w := newWorld(t, worldOpts{accessTTL: 20 * time.Second})
	jar := w.signIn()
	for i := range 3 {
		w.clk.Advance(2 * time.Second)
		if s := w.get(context.Background(), jar); len(s.cookies) != 0 {
			t.Fatalf("refreshed %ds into a 20s token's life", 2*(i+1))
		}
	}
	if n := w.op.Refreshes(); n != 0 {
		t.Fatalf("refresh calls: got %d, want 0", n)
	}
	w.clk.Advance(6 * time.Second) // 12 s in: past half the lifetime
	if s := w.get(context.Background(), jar); len(s.cookies) == 0 || s.session.Error != "" {
		t.Fatalf("no refresh past half the lifetime (error %q)", s.session.Error)
	}
	if n := w.op.Refreshes(); n != 1 {
		t.Fatalf("refresh calls: got %d, want 1", n)
	}
}

// A request whose client gives up stops waiting; the refresh goes on and
// serves the next request.
func TestRefreshWaitHonoursRequestContext(t *testing.T) {
	w := newWorld(t, worldOpts{mod: func(c *sessionkit.Config) { c.RefreshTimeout = 5 * time.Second }})
	jar := w.signInExpiring(-time.Second)
	w.proxy.fault.Store(int32(hang))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := w.get(ctx, jar)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("the request waited %v after its context ended", el)
	}
	if len(got.cookies) != 0 {
		t.Error("a request that stopped waiting wrote a cookie")
	}
}

func count(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}
