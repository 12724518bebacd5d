package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/bench/internal/loopback"
	"github.com/sessionkit/sessionkit/redisstore"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// tokenEndpoint rotates refresh tokens and counts the reuse of a
// rotated-out one.
type tokenEndpoint struct {
	ttl     time.Duration
	mu      sync.Mutex
	current map[string]bool
	spent   map[string]bool
	calls   atomic.Int64
	reuse   atomic.Int64
}

func (te *tokenEndpoint) issue() *oauth2.Token {
	te.mu.Lock()
	defer te.mu.Unlock()
	rt := "rt-" + b64(random(16))
	te.current[rt] = true
	return &oauth2.Token{AccessToken: "at-" + b64(random(16)), RefreshToken: rt, TokenType: "Bearer", Expiry: time.Now().Add(te.ttl)}
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	te.calls.Add(1)
	rt := r.PostFormValue("refresh_token")
	te.mu.Lock()
	live := te.current[rt]
	if live {
		delete(te.current, rt)
		te.spent[rt] = true
	} else if te.spent[rt] {
		te.reuse.Add(1)
	}
	te.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !live {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	next := te.issue()
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": next.AccessToken, "token_type": "Bearer",
		"expires_in": int(te.ttl / time.Second), "refresh_token": next.RefreshToken})
}

// instance is one application server: a Manager on its own Store.
type instance struct {
	srv   *httptest.Server
	store *redisstore.Store
}

// newInstances starts n instances sharing keys and a key prefix on the
// Redis at redisURL, with or without the client-side cache.
func newInstances(ctx context.Context, n int, redisURL string, noCache bool, te *tokenEndpoint, tokenURL string) ([]*instance, error) {
	keys := [][]byte{random(32)}
	prefix := "sessionkit-failover:" + b64(random(6)) + ":"
	out := make([]*instance, 0, n)
	for range n {
		s, err := redisstore.New(ctx, redisURL, redisstore.Config{Prefix: prefix, DisableCache: noCache})
		if err != nil {
			closeAll(out)
			return nil, err
		}
		m, err := sessionkit.New(sessionkit.Config{
			Keys:  keys,
			Store: s,
			Providers: []sessionkit.Provider{{ID: "idp", ClientID: "failover", ClientSecret: "failover-secret",
				AuthURL: "http://127.0.0.1/authorize", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			s.Close()
			closeAll(out)
			return nil, err
		}
		srv, err := loopback.Serve(appHandler(m, te))
		if err != nil {
			s.Close()
			closeAll(out)
			return nil, err
		}
		out = append(out, &instance{srv: srv, store: s})
	}
	return out, nil
}

func closeAll(is []*instance) {
	for _, in := range is {
		in.srv.Close()
		in.store.Close()
	}
}

// appHandler answers 200 with the session's user ID in the body and its
// Error in a header; Require answers 401 without a session and 503 when
// the store failed. POST /login signs in.
func appHandler(m *sessionkit.Manager, te *tokenEndpoint) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		p := sessionkit.SignInParams{User: &sessionkit.User{ID: user}}
		if r.URL.Query().Get("kind") == "refresh" {
			p.Provider, p.Token = "idp", te.issue()
		} else {
			p.Token = &oauth2.Token{AccessToken: "at-" + b64(random(16)), TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
		}
		if _, err := m.SignIn(w, r, p); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		w.Header().Set("X-Session-Error", s.Error)
		_, _ = io.WriteString(w, s.User.ID)
	})))
	return mux
}

// login signs user in through base, retrying while the store is
// unavailable, for at most 30 s.
func login(c *http.Client, base, user, kind string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Post(base+"/login?user="+user+"&kind="+kind, "", nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			err = fmt.Errorf("status %s", strconv.Itoa(resp.StatusCode))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("login %s: %w", user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
