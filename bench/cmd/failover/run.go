package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/bench/internal/loopback"
)

// user is a simulated browser: its cookie jar, and whether it signed in
// after Sentinel reported the new master.
type user struct {
	id    string
	c     *http.Client
	after bool
}

// load is the run's shared state.
type load struct {
	o         options
	bases     []string
	tr        *http.Transport
	res       *result
	mu        sync.RWMutex
	users     []*user
	freezeAt  atomic.Int64 // Unix ns; 0 until the freeze
	failedTo  chan string  // the new master, once Sentinel reports it
	sentinels string
}

func (l *load) client() *http.Client {
	jar, _ := cookiejar.New(nil) // cookies ignore ports: one jar serves every instance
	return &http.Client{Transport: l.tr, Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func run(ctx context.Context, o options) (*result, error) {
	u, _ := url.Parse(o.url)
	te := &tokenEndpoint{ttl: o.ttl, current: map[string]bool{}, spent: map[string]bool{}}
	tokenSrv, err := loopback.Serve(te)
	if err != nil {
		return nil, err
	}
	defer tokenSrv.Close()
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	insts, err := newInstances(nctx, 3, o.url, o.noCache, te, tokenSrv.URL+"/token")
	if err != nil {
		return nil, err
	}
	defer closeAll(insts)
	conns := o.workers + o.browsers + 8
	l := &load{o: o, res: &result{}, failedTo: make(chan string, 1), sentinels: strings.Split(u.Host, ",")[0],
		tr: &http.Transport{MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second}}
	for _, in := range insts {
		l.bases = append(l.bases, in.srv.URL)
	}
	if err := l.signIn(o.users, "cookie", "cookie", false); err != nil {
		return nil, err
	}
	if err := l.signIn(o.browsers, "browser", "refresh", false); err != nil {
		return nil, err
	}
	l.res.master, err = masterAddr(l.sentinels, u.Query().Get("master_set"))
	if err != nil {
		return nil, err
	}
	l.drive(ctx, u.Query().Get("master_set"))
	l.check()
	l.res.tokenCalls, l.res.reuse = te.calls.Load(), te.reuse.Load()
	return l.res, nil
}

// signIn signs n users in, each through a random instance.
func (l *load) signIn(n int, prefix, kind string, after bool) error {
	for i := range n {
		us := &user{id: fmt.Sprintf("%s-%d", prefix, i), c: l.client(), after: after}
		if err := login(us.c, l.bases[rand.IntN(len(l.bases))], us.id, kind); err != nil {
			return err
		}
		l.mu.Lock()
		l.users = append(l.users, us)
		l.mu.Unlock()
	}
	return nil
}

// drive sends the load for -d, freezes the master at -kill-at, and signs
// in -after users once Sentinel reports the new master.
func (l *load) drive(ctx context.Context, masterSet string) {
	ctx, cancel := context.WithTimeout(ctx, l.o.d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range l.o.workers {
		wg.Go(func() { l.worker(ctx, false, 5*time.Millisecond) })
	}
	for range l.o.browsers {
		wg.Go(func() { l.worker(ctx, true, 50*time.Millisecond) })
	}
	select {
	case <-ctx.Done():
	case <-time.After(l.o.killAt):
		l.freeze(masterSet, start)
		select {
		case master := <-l.failedTo:
			l.res.newMaster = master
			if err := l.signIn(l.o.after, "after", "cookie", true); err != nil {
				l.res.note("signing in after the failover: %v", err)
			}
			l.res.afterSignedIn = time.Since(start)
		case <-ctx.Done():
		}
	}
	wg.Wait()
	l.res.elapsed = time.Since(start)
}

// freeze sends DEBUG SLEEP to the master and watches Sentinel until it
// names another master.
func (l *load) freeze(masterSet string, start time.Time) {
	l.res.freezeAt = time.Since(start)
	l.freezeAt.Store(time.Now().UnixNano())
	go func() {
		_, _ = redisDo(l.res.master, l.o.sleep+5*time.Second, "DEBUG", "SLEEP", fmt.Sprint(l.o.sleep.Seconds()))
	}()
	go func() {
		t0 := time.Now()
		for time.Since(t0) < l.o.d {
			if m, err := masterAddr(l.sentinels, masterSet); err == nil && m != l.res.master {
				l.res.failoverTook = time.Since(t0)
				l.failedTo <- m
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
}

// worker sends requests as random users (browsers: refreshing sessions)
// to random instances until ctx is done, pausing pace between them.
func (l *load) worker(ctx context.Context, browsers bool, pace time.Duration) {
	for ctx.Err() == nil {
		l.mu.RLock()
		us := l.users[rand.IntN(len(l.users))]
		l.mu.RUnlock()
		if strings.HasPrefix(us.id, "browser-") != browsers {
			continue
		}
		l.request(us, l.bases[rand.IntN(len(l.bases))])
		time.Sleep(pace)
	}
}

// request sends one request as us and records its outcome.
func (l *load) request(us *user, base string) {
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Accept", "application/json")
	at := time.Duration(0) // when the request was sent, from the freeze
	if f := l.freezeAt.Load(); f != 0 {
		at = time.Since(time.Unix(0, f))
	}
	t0 := time.Now()
	resp, err := us.c.Do(req)
	l.res.took(time.Since(t0))
	if err != nil {
		l.res.record(outTransport, at, fmt.Sprintf("%s: %v", us.id, err))
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		l.res.record(outUnavailable, at, "")
	case resp.StatusCode == http.StatusUnauthorized:
		l.res.record(outSignedOut, at, fmt.Sprintf("%s: 401 at %s after the freeze (%s)", us.id, at.Round(time.Millisecond), strings.TrimSpace(string(body))))
	case resp.StatusCode != http.StatusOK:
		l.res.record(outOther, at, fmt.Sprintf("%s: status %d", us.id, resp.StatusCode))
	case string(body) != us.id:
		l.res.record(outWrongUser, at, fmt.Sprintf("%s: session of %q", us.id, body))
	case resp.Header.Get("X-Session-Error") != "":
		l.res.record(outSessionError, at, resp.Header.Get("X-Session-Error"))
	default:
		l.res.record(outOK, at, "")
	}
}

// check asks, once the load has stopped, whether every user is still
// signed in, retrying a 503 for up to 10 s.
func (l *load) check() {
	for i, us := range l.users {
		base := l.bases[i%len(l.bases)]
		alive := false
		for deadline := time.Now().Add(10 * time.Second); ; {
			req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
			req.Header.Set("Accept", "application/json")
			resp, err := us.c.Do(req)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				alive = resp.StatusCode == http.StatusOK && string(body) == us.id
				if resp.StatusCode != http.StatusServiceUnavailable {
					break
				}
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		l.res.checked(us.after, alive, us.id)
	}
}
