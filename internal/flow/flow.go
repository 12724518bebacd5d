// Package flow holds what a sign-in in progress keeps between the
// authorization request and the provider's callback: the State record,
// sealed into a cookie of its own named after the state, the bound on how
// many a browser keeps, and the record of the states already used.
package flow

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/seal"
)

// State is what a sign-in in progress must remember. Sealed (authenticated
// and encrypted) in its cookie, it lets only the browser that started the
// sign-in finish it, and that browser can neither read nor change it.
type State struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"` // the PKCE code verifier
	Callback string `json:"c"`           // validated, absolute
	Redirect string `json:"r"`           // the redirect_uri sent
	Expires  int64  `json:"e"`           // Unix seconds
	Add      bool   `json:"a,omitempty"` // add the account to the session
}

const (
	// MaxFlows is how many sign-ins a browser may have in progress at
	// once, each with its own cookie (sign-ins started in several tabs all
	// finish).
	MaxFlows = 4
	// maxCookie is the largest cookie value Open accepts, about what a
	// browser keeps.
	maxCookie = 4096
	keyLen    = 12 // characters of the state in a cookie's name
)

// ErrTooLarge is Seal's error for a State (mostly its Callback) that would
// not fit in a cookie.
var ErrTooLarge = errors.New("the callbackUrl is too long to carry through the sign-in")

// Find's errors: why a callback finishes no sign-in of this browser.
var (
	ErrNoFlow        = errors.New("no sign-in is in progress in this browser (its state cookie is missing or expired): start again")
	ErrStateMismatch = errors.New("the state parameter does not match this browser's sign-in (started again elsewhere, or forged)")
	ErrProvider      = errors.New("the callback names another provider than the sign-in that was started")
)

// Cookies seals and opens the flow cookies of one cookie name.
type Cookies struct {
	Sealer *seal.Sealer
	Prefix string           // a flow cookie is named Prefix + "." + the state's first 12 characters
	Now    func() time.Time // Open refuses a State past its Expires
}

// Name is the name of the flow cookie of the sign-in with state, and false
// for a state this server cannot have issued.
func (c *Cookies) Name(state string) (string, bool) {
	if len(state) != oidc.StateLen {
		return "", false
	}
	for i := range keyLen {
		if b := state[i]; !('A' <= b && b <= 'Z' || '2' <= b && b <= '7') {
			return "", false
		}
	}
	return c.Prefix + "." + state[:keyLen], true
}

// Seal seals f into the value of its cookie called name. It returns
// ErrTooLarge when name and value together pass what a browser keeps: the
// browser would drop the cookie, and the callback find no sign-in.
func (c *Cookies) Seal(name string, f *State) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" in a callbackUrl would take 6 bytes
	if err := enc.Encode(f); err != nil {
		return "", err
	}
	payload := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	bp, raw := c.Sealer.Seal(func(b []byte) []byte { return append(b, payload...) })
	v := seal.EncodeToString(raw)
	seal.Release(bp)
	if len(name)+len(v) > cookie.BrowserLimit {
		return "", ErrTooLarge
	}
	return v, nil
}

// Open opens the value of the flow cookie called name: one this server
// sealed, not expired, and named after the state it holds (so that it
// cannot pass for another sign-in's cookie).
func (c *Cookies) Open(name, value string) (*State, bool) {
	if value == "" || len(value) > maxCookie {
		return nil, false
	}
	b, _, err := c.Sealer.Open(value)
	if err != nil {
		return nil, false
	}
	var f State
	if json.Unmarshal(b, &f) != nil || c.Now().Unix() >= f.Expires {
		return nil, false
	}
	if want, ok := c.Name(f.State); !ok || want != name {
		return nil, false
	}
	return &f, true
}

// Find opens the flow cookie of r that a callback of provider with state
// finishes, and returns its name ("" for none), which the caller expires
// whatever the outcome: one callback per sign-in. The state is compared in
// constant time.
func (c *Cookies) Find(r *http.Request, provider, state string) (f *State, name string, err error) {
	ok := false
	if n, named := c.Name(state); named {
		if ck, err := r.Cookie(n); err == nil {
			f, ok = c.Open(n, ck.Value)
		}
		name = n
	}
	switch {
	case !ok:
		return nil, name, ErrNoFlow
	case f.Provider != provider:
		return nil, name, ErrProvider
	case subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1:
		return nil, name, ErrStateMismatch
	}
	return f, name, nil
}

// Prune makes room for one more sign-in among the flow cookies of a
// request: it returns the names of the cookies to expire (unreadable or
// expired ones and, when MaxFlows sign-ins are in progress, the oldest)
// and true. A cross-site request never ends a sign-in in progress: Prune
// then reports false when there is no room.
func (c *Cookies) Prune(cookies []*http.Cookie, crossSite bool) (expire []string, room bool) {
	type ref struct {
		name    string
		expires int64
	}
	var flows []ref
	for _, ck := range cookies {
		if !strings.HasPrefix(ck.Name, c.Prefix+".") {
			continue
		}
		var f *State
		ok := false
		if len(flows) < 2*MaxFlows { // bounds the work an attacker's own cookies cost
			f, ok = c.Open(ck.Name, ck.Value)
		}
		if !ok {
			expire = append(expire, ck.Name)
			continue
		}
		flows = append(flows, ref{ck.Name, f.Expires})
	}
	if len(flows) < MaxFlows {
		return expire, true
	}
	if crossSite {
		return expire, false
	}
	slices.SortFunc(flows, func(a, b ref) int { return cmp.Compare(a.expires, b.expires) })
	for _, f := range flows[:len(flows)-MaxFlows+1] {
		expire = append(expire, f.name)
	}
	return expire, true
}
