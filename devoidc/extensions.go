package devoidc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// extensions are what devoidc adds around zitadel's provider: the record
// of authorization requests, the offline-access rule and RFC 9207's iss.
type extensions struct {
	cfg       Config
	mu        sync.Mutex
	authorize []url.Values // the queries of /authorize requests, in order
}

// backChannelEvent is the "events" member of a back-channel logout token.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// extend records and rewrites r, and wraps w, as Config asks.
func (p *Provider) extend(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	switch r.URL.Path {
	case "/authorize":
		q := r.URL.Query()
		p.ext.mu.Lock()
		p.ext.authorize = append(p.ext.authorize, q)
		p.ext.mu.Unlock()
		if p.ext.cfg.OfflineAccessNeedsConsent && !slices.Contains(strings.Fields(q.Get("prompt")), "consent") {
			scopes := strings.Fields(q.Get("scope"))
			q.Set("scope", strings.Join(slices.DeleteFunc(scopes, func(s string) bool { return s == "offline_access" }), " "))
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
		}
	case "/.well-known/openid-configuration":
		if p.ext.cfg.AuthorizationResponseIss {
			return &discoveryWriter{ResponseWriter: w}, r
		}
	}
	if p.ext.cfg.AuthorizationResponseIss {
		w = &issWriter{ResponseWriter: w, iss: p.issuer}
	}
	return w, r
}

// AuthorizeRequests returns the query of every authorization request
// received so far, in order.
func (p *Provider) AuthorizeRequests() []url.Values {
	p.ext.mu.Lock()
	defer p.ext.mu.Unlock()
	return slices.Clone(p.ext.authorize)
}

// LogoutToken returns a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0) for clientID naming sub and, when set, sid,
// signed with the provider's key and issued now. Without exp it carries no
// "exp", as Ory Hydra's do.
func (p *Provider) LogoutToken(clientID, sub, sid string, exp bool) (string, error) {
	key, err := p.store.SigningKey(context.Background())
	if err != nil {
		return "", err
	}
	now := time.Now().Unix()
	claims := map[string]any{"iss": p.issuer, "aud": clientID, "iat": now, "jti": rand.Text(), "sub": sub,
		"events": map[string]any{backChannelEvent: map[string]any{}}}
	if sid != "" {
		claims["sid"] = sid
	}
	if exp {
		claims["exp"] = now + 120
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", key.ID())
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: key.Key()}, opts)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// issWriter adds "iss" to the authorization responses redirected through
// it: redirects whose URL carries a "state".
type issWriter struct {
	http.ResponseWriter
	iss string
}

func (w *issWriter) WriteHeader(code int) {
	if loc := w.Header().Get("Location"); code/100 == 3 && loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Query().Has("state") {
			q := u.Query()
			q.Set("iss", w.iss)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *issWriter) Write(b []byte) (int, error) { return w.ResponseWriter.Write(b) }

// discoveryWriter adds authorization_response_iss_parameter_supported to
// the discovery document written through it.
type discoveryWriter struct {
	http.ResponseWriter
	code int
}

func (w *discoveryWriter) WriteHeader(code int) { w.code = code }

func (w *discoveryWriter) Write(b []byte) (int, error) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || (w.code != 0 && w.code != http.StatusOK) {
		w.flush()
		return w.ResponseWriter.Write(b)
	}
	doc["authorization_response_iss_parameter_supported"] = true
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(doc); err != nil {
		return 0, err
	}
	w.Header().Del("Content-Length")
	w.flush()
	if _, err := w.ResponseWriter.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (w *discoveryWriter) flush() {
	if w.code != 0 {
		w.ResponseWriter.WriteHeader(w.code)
	}
}
