package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/redisstore"
)

// redisServer is a redis-server process of the test's own, on a free
// loopback port. With persist, it writes every change to an append-only
// file in a temporary directory (fsync always), so that a restart keeps
// the sessions; without, a restart starts empty.
type redisServer struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	persist bool
	cmd     *exec.Cmd
}

// startRedisServer starts a redis-server. Without the binary the test is
// skipped, except in CI (CI=true), where it must run.
func startRedisServer(t *testing.T, persist bool) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed, and CI=true: the restart test must run in CI (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed: skipping the test that restarts its own (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rs := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: port, persist: persist}
	rs.start()
	t.Cleanup(rs.kill)
	return rs
}

func (rs *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", rs.port) }

// start runs the server and waits until it answers PING.
func (rs *redisServer) start() {
	t := rs.t
	t.Helper()
	aof := "no"
	if rs.persist {
		aof = "yes"
	}
	cmd := exec.Command(rs.bin,
		"--port", strconv.Itoa(rs.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", aof, "--appendfsync", "always",
		"--dir", rs.dir, "--logfile", filepath.Join(rs.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	rs.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		if rs.ping() {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(rs.dir, "redis.log"))
			t.Fatalf("redis-server on port %d did not answer PING within 15s; its log:\n%s", rs.port, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping reports whether the server answers PING with PONG (not LOADING).
func (rs *redisServer) ping() bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", rs.port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// kill stops the server at once (SIGKILL: no shutdown save) and reaps it.
func (rs *redisServer) kill() {
	if rs.cmd == nil {
		return
	}
	_ = rs.cmd.Process.Signal(syscall.SIGKILL)
	_ = rs.cmd.Wait()
	rs.cmd = nil
}

// restartOutcome is what one request saw.
type restartOutcome struct {
	status  int           // Require's status
	mwCode  int           // Middleware's status
	session bool          // Middleware's handler saw an active session
	cleared bool          // a response deleted the session cookie
	took    time.Duration // the longer of the two
}

// TestRedisRestart runs three Managers on a redis-server of the test's
// own, with concurrent requests of store-backed sessions, kills the server
// mid-run and restarts it. While it is down the Managers fail closed:
// Middleware goes on without a session (never a 5xx), Require answers 503,
// no request outlives its context, no cookie is cleared.
//
// When the server persists every write (appendonly, fsync always), every
// session is back after the restart: none is lost, and the session whose
// access token expired meanwhile is refreshed once, for every instance.
// When it persists nothing, the restarted server is empty: every request
// gets no session (Require: 401, never a 5xx), and users sign in again.
func TestRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the redis-server restart test")
	}
	for _, tt := range []struct {
		name    string
		persist bool
	}{
		{"appendonly", true},
		{"no persistence", false},
	} {
		t.Run(tt.name, func(t *testing.T) { testRedisRestart(t, tt.persist) })
	}
}

func testRedisRestart(t *testing.T, persist bool) {
	rs := startRedisServer(t, persist)

	var calls atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "rt-1" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("at-%d", n+1), "token_type": "Bearer",
			"refresh_token": fmt.Sprintf("rt-%d", n+1), "expires_in": 3600})
	}))
	t.Cleanup(idp.Close)

	// Three instances: a Store (own client, own cache) and a Manager each,
	// sharing cookie keys and a clock the test advances.
	keys := []byte(rand.Text() + rand.Text())
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ms := make([]*sessionkit.Manager, 3)
	for i := range ms {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		st, err := redisstore.New(ctx, rs.url(), redisstore.Config{Prefix: "restart:", Timeout: 500 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatalf("redisstore.New: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		m, err := sessionkit.New(sessionkit.Config{
			Keys:           [][]byte{keys},
			Store:          st,
			Now:            now,
			Logger:         slog.New(slog.DiscardHandler),
			RefreshTimeout: 3 * time.Second,
			Providers: []sessionkit.Provider{{ID: "idp", ClientID: "c", ClientSecret: "s",
				AuthURL: "https://idp.example/auth", TokenURL: idp.URL, AuthStyle: oauth2.AuthStyleInParams}},
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = m.Close() })
		ms[i] = m
	}

	// Twelve signed-in users, one of them with an access token that
	// expires during the outage.
	const users = 12
	cookies := make([][]*http.Cookie, users)
	ids := make([]string, users)
	for i := range users {
		p := sessionkit.SignInParams{User: &sessionkit.User{ID: fmt.Sprint("user-", i)}}
		if i == 0 {
			p.Provider = "idp"
			p.Token = &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: now().Add(2 * time.Minute)}
		}
		rec := httptest.NewRecorder()
		s, err := ms[i%3].SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), p)
		if err != nil {
			t.Fatalf("SignIn %d: %v", i, err)
		}
		ids[i], cookies[i] = s.ID, rec.Result().Cookies()
	}

	const reqTimeout = 2 * time.Second
	const slack = 1500 * time.Millisecond // scheduling under -race on a loaded machine
	do := func(m *sessionkit.Manager, user int) (out restartOutcome, seen *sessionkit.Session) {
		for _, require := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(context.Background(), reqTimeout)
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://app.example/api", nil)
			req.Header.Set("Accept", "application/json")
			for _, c := range cookies[user] {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if s, ok := sessionkit.FromContext(r.Context()); ok {
					seen = s
				}
			})
			start := time.Now()
			if require {
				m.Require(h).ServeHTTP(rec, req)
				out.status = rec.Code
			} else {
				m.Middleware(h).ServeHTTP(rec, req)
				out.mwCode, out.session = rec.Code, seen != nil
			}
			out.took = max(out.took, time.Since(start))
			cancel()
			for _, c := range rec.Result().Cookies() {
				if c.MaxAge < 0 || c.Value == "" {
					out.cleared = true
				}
			}
		}
		return out, seen
	}
	check := func(t *testing.T, phase string, o restartOutcome, mayClear bool, wantRequire ...int) {
		t.Helper()
		if o.mwCode >= 500 {
			t.Errorf("%s: Middleware answered %d, want no 5xx", phase, o.mwCode)
		}
		ok := false
		for _, w := range wantRequire {
			ok = ok || o.status == w
		}
		if !ok {
			t.Errorf("%s: Require answered %d, want one of %v", phase, o.status, wantRequire)
		}
		if o.cleared && !mayClear {
			t.Errorf("%s: a response cleared the session cookie, want it kept", phase)
		}
		if o.took > reqTimeout+slack {
			t.Errorf("%s: a request took %v, want at most %v", phase, o.took, reqTimeout+slack)
		}
	}

	// Background load across the instances, from before the kill until
	// after the restart.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var total, served, unavailable atomic.Int64
	var mu sync.Mutex
	var bad []string
	for w := range 6 {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o, _ := do(ms[i%3], i%users)
				total.Add(1)
				switch o.status {
				case http.StatusOK:
					served.Add(1)
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
				}
				lost := !persist && o.status == http.StatusUnauthorized // after the restart
				if o.mwCode >= 500 || (o.status != http.StatusOK && o.status != http.StatusServiceUnavailable && !lost) ||
					(o.cleared && !lost) || o.took > reqTimeout+slack {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("user %d: %+v", i%users, o))
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		})
	}

	// A failing check must not leave the load running past the cleanups.
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLoad()

	time.Sleep(300 * time.Millisecond)
	if served.Load() == 0 {
		t.Error("before the kill: no request was served")
	}

	rs.kill()
	// The access token of user 0 expires while Redis is down.
	offset.Add(int64(5 * time.Minute))
	time.Sleep(700 * time.Millisecond)
	// Each request waits for the store's Timeout (500 ms) at most: they
	// run side by side.
	var down sync.WaitGroup
	var slowest atomic.Int64
	for i := range users {
		down.Go(func() {
			o, _ := do(ms[i%3], i)
			check(t, "Redis down", o, false, http.StatusServiceUnavailable)
			if o.session {
				t.Errorf("Redis down: user %d has a session, want none (fail closed)", i)
			}
			for took := int64(o.took); ; {
				cur := slowest.Load()
				if took <= cur || slowest.CompareAndSwap(cur, took) {
					break
				}
			}
		})
	}
	down.Wait()
	t.Logf("Redis down: the slowest request (Middleware, then Require) took %v", time.Duration(slowest.Load()))
	downUnavailable := unavailable.Load()
	if downUnavailable == 0 {
		t.Error("Redis down: the background requests never saw a 503")
	}

	restarted := time.Now()
	rs.start()
	t.Logf("redis-server restarted in %v", time.Since(restarted))
	// Recovery: the clients reconnect by themselves. With persistence,
	// every session is back on every instance; without, every session is
	// gone.
	want := http.StatusOK
	if !persist {
		want = http.StatusUnauthorized
	}
	deadline := time.Now().Add(15 * time.Second)
	for u := range users {
		for i, m := range ms {
			for {
				o, s := do(m, u)
				if o.status == http.StatusServiceUnavailable {
					check(t, "recovering", o, false, http.StatusServiceUnavailable)
					if time.Now().After(deadline) {
						t.Fatalf("after the restart: user %d on instance %d: Require still answers 503 after 15s", u, i)
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				check(t, "after the restart", o, !persist, want)
				switch {
				case !persist && s != nil:
					t.Errorf("after a restart without persistence: user %d on instance %d has a session, want none", u, i)
				case persist && (s == nil || s.ID != ids[u]):
					t.Fatalf("after the restart: user %d on instance %d: got session %v, want %s", u, i, s, ids[u])
				case persist && u == 0 && (s.AccessToken != "at-2" || s.RefreshToken != "rt-2" || s.Error != ""):
					t.Errorf("after the restart: instance %d: got access %q refresh %q error %q, want at-2, rt-2, none",
						i, s.AccessToken, s.RefreshToken, s.Error)
				}
				break
			}
		}
	}
	t.Logf("every instance answers for every user %v after the restart began", time.Since(restarted))
	stopLoad()
	if len(bad) > 0 {
		t.Errorf("%d of %d background requests broke the failure mode, first: %s", len(bad), total.Load(), bad[0])
	}
	wantCalls, wantListed := int64(1), 1
	if !persist {
		wantCalls, wantListed = 0, 0
	}
	if c := calls.Load(); c != wantCalls {
		t.Errorf("token endpoint calls: got %d, want %d (with the sessions back, one refresh across the instances)", c, wantCalls)
	}
	for i, m := range ms {
		list, err := m.ListSessions(t.Context(), "user-3")
		if err != nil || len(list) != wantListed || (persist && list[0].Status != sessionkit.StatusActive) {
			t.Errorf("ListSessions on instance %d after the restart: got %d sessions, error %v, want %d active", i, len(list), err, wantListed)
		}
	}
	t.Logf("%d background requests: %d served, %d answered 503 while Redis was down or reconnecting",
		total.Load(), served.Load(), unavailable.Load())
}
