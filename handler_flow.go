package sessionkit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/store"
)

// The flow cookie: what a sign-in in progress keeps in the browser between
// /signin/{id} and /callback/{id}, and the record of the states already
// used.

// signInFlow is what a sign-in in progress must remember between the
// authorization request and the callback. It lives in a cookie sealed with
// keys derived from Config.Keys (authenticated and encrypted; the cookie's
// name is that of its State), so the browser that started the sign-in is
// the only one that can finish it, and it cannot read or change it.
type signInFlow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	Callback string `json:"c"`           // validated, absolute
	Redirect string `json:"r"`           // the redirect_uri sent
	Expires  int64  `json:"e"`           // Unix seconds
	Add      bool   `json:"a,omitempty"` // add the account to the session (AddSignIn)
}

// sealFlow seals f into the flow cookie's value.
func (h *authHandler) sealFlow(name string, f *signInFlow) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" in a callbackUrl would take 6 bytes
	if err := enc.Encode(f); err != nil {
		return "", err
	}
	v := sealValue(h.m.cookies.flow, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	// A browser drops a cookie whose name and value together pass its
	// limit, and the callback would then find no sign-in in progress.
	if len(name)+len(v) > browserCookieLimit {
		return "", errFlowTooLarge
	}
	return v, nil
}

// maxFlowCookie is the largest flow cookie openFlow accepts, and about
// what a browser keeps.
const maxFlowCookie = 4096

// errFlowTooLarge: the sign-in state (mostly the callbackUrl) would not
// fit in a cookie.
var errFlowTooLarge = errors.New("the callbackUrl is too long to carry through the sign-in")

// openFlow reads the flow cookie of r for state, if it is one this server
// sealed and it has not expired.
func (h *authHandler) openFlow(r *http.Request, state string) (*signInFlow, bool) {
	name, ok := h.flowCookieName(state)
	if !ok {
		return nil, false
	}
	c, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	return h.openFlowValue(name, c.Value)
}

// openFlowValue opens the value of the flow cookie called name: one this
// server sealed, not expired, and named after the state it holds (so that
// it cannot pass for another sign-in's cookie).
func (h *authHandler) openFlowValue(name, value string) (*signInFlow, bool) {
	if value == "" || len(value) > maxFlowCookie {
		return nil, false
	}
	b, _, err := h.m.cookies.flow.Open(value)
	if err != nil {
		return nil, false
	}
	var f signInFlow
	if json.Unmarshal(b, &f) != nil || h.m.cfg.Now().Unix() >= f.Expires {
		return nil, false
	}
	if want, ok := h.flowCookieName(f.State); !ok || want != name {
		return nil, false
	}
	return &f, true
}

// Each sign-in in progress has its own flow cookie, named after its state,
// so that sign-ins started in two tabs of one browser both finish; at most
// maxFlows are kept.
const (
	flowKeyLen = 12 // characters of the state in the cookie's name
	maxFlows   = 4
)

// flowCookieName is the name of the flow cookie of the sign-in with state,
// and false for a state this server cannot have issued.
func (h *authHandler) flowCookieName(state string) (string, bool) {
	if len(state) != oidc.StateLen {
		return "", false
	}
	for i := range flowKeyLen {
		if c := state[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return h.flowCookie + "." + state[:flowKeyLen], true
}

// makeRoom keeps the flow cookies of r within maxFlows before a sign-in
// starts: unreadable or expired ones are cleared, and when maxFlows
// sign-ins are in progress, a same-site request clears the oldest. A
// cross-site request never ends a sign-in in progress: it reports false
// when there is no room.
func (h *authHandler) makeRoom(w http.ResponseWriter, r *http.Request, crossSite bool) bool {
	type flowRef struct {
		name    string
		expires int64
	}
	var flows []flowRef
	prefix := h.flowCookie + "."
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, prefix) {
			continue
		}
		var f *signInFlow
		ok := false
		if len(flows) < 2*maxFlows { // bounds the work an attacker's own cookies cost
			f, ok = h.openFlowValue(c.Name, c.Value)
		}
		if !ok {
			h.expireCookie(w, c.Name)
			continue
		}
		flows = append(flows, flowRef{c.Name, f.Expires})
	}
	if len(flows) < maxFlows {
		return true
	}
	if crossSite {
		return false
	}
	slices.SortFunc(flows, func(a, b flowRef) int { return cmp.Compare(a.expires, b.expires) })
	for _, f := range flows[:len(flows)-maxFlows+1] {
		h.expireCookie(w, f.name)
	}
	return true
}

// errStateUsed: the flow cookie of a finished callback came back.
var errStateUsed = errors.New("this sign-in has already been finished: start again")

// consumeState makes a flow serve one callback on the server too, not
// only in the browser that is told to delete its cookie: the state is
// consumed in the Store when there is one (across instances), otherwise in
// the Manager's usedStates (this instance only).
func (h *authHandler) consumeState(ctx context.Context, f *signInFlow) *handlerError {
	now := h.m.cfg.Now()
	if c, ok := h.m.cfg.Store.(store.Consumer); ok {
		ttl := time.Unix(f.Expires, 0).Sub(now) + time.Second
		first, err := c.Consume(ctx, "signin-state:"+f.State, ttl)
		if err != nil {
			h.m.cfg.Logger.ErrorContext(ctx, "sessionkit: the store could not record a sign-in state", "error", err.Error())
			return &handlerError{http.StatusServiceUnavailable, "SessionStoreUnavailable", "the session store is unavailable; try again"}
		}
		if !first {
			return invalidCheck(errStateUsed)
		}
		return nil
	}
	if !h.m.usedStates.consume(f.State, f.Expires, now.Unix()) {
		return invalidCheck(errStateUsed)
	}
	return nil
}

// maxUsedStates bounds usedStates: about 100 bytes an entry.
const maxUsedStates = 1 << 15

// usedStates records the states of finished callbacks until their flow
// cookies expire, for a Manager without a Store or whose Store cannot
// record one-time keys (store.Consumer). It holds at most max
// entries: past that the oldest is forgotten early, so a flood of more than
// max callbacks within SignInStateLifetime reopens the oldest states to
// one replay each. It is safe for concurrent use.
type usedStates struct {
	mu    sync.Mutex
	max   int
	seen  map[string]int64 // state → expiry, Unix seconds
	queue []usedState      // insertion order, from head
	head  int
}

type usedState struct {
	state   string
	expires int64
}

func newUsedStates(max int) *usedStates {
	return &usedStates{max: max, seen: map[string]int64{}}
}

// consume records state until expires and reports whether it was not
// recorded yet. Amortized O(1).
func (u *usedStates) consume(state string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if exp, ok := u.seen[state]; ok && exp > now {
		return false
	}
	for u.head < len(u.queue) && (u.queue[u.head].expires <= now || len(u.queue)-u.head >= u.max) {
		e := u.queue[u.head]
		if u.seen[e.state] == e.expires {
			delete(u.seen, e.state)
		}
		u.queue[u.head] = usedState{}
		u.head++
	}
	if u.head > 64 && 2*u.head >= len(u.queue) {
		n := copy(u.queue, u.queue[u.head:])
		clear(u.queue[n:])
		u.queue, u.head = u.queue[:n], 0
	}
	u.seen[state] = expires
	u.queue = append(u.queue, usedState{state, expires})
	return true
}
