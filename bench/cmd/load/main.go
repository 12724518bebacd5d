// Command load measures goal 4 of BENCHMARKS.md on loopback: the requests per
// second of a handler behind sessionkit's Require with a cached cookie
// session, against the same handler bare, and against floor_copy: the
// same session already decoded, attached to every request and copied for
// the handler as sessionkit does, with nothing read from the request (about
// the most a middleware that copies the session for its handler can
// serve). All three servers get the same requests (the same 3 KB session
// cookie and Accept header). Rounds rotate through the servers so that
// noise from other processes falls on all; the median of each is reported
// with the ratios.
//
// It drives the servers with wrk when wrk is on PATH (Debian: apt-get
// install wrk), else with a Go load generator. Every round is bounded by
// -d and the program stops by itself.
//
// With -refresh it checks the other half of goal 4 instead: -c clients
// (64 by default there) share one cookie session whose access tokens live
// -ttl, each client keeping the cookies the server sets, for -d. The
// token endpoint (a Provider.Refresh hook that rotates refresh tokens and
// refuses a reused one, as a provider with reuse detection does) must be
// called exactly once per expiry: never twice with one refresh token, and
// no request may see a failed refresh.
//
//	go run ./bench/cmd/load                 # 3 rounds of 10 s per server
//	go run ./bench/cmd/load -d 5s -rounds 5 -c 64 -gen go
//	go run ./bench/cmd/load -refresh        # 64 clients, 10 s, 2 s tokens
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/bench/internal/loopback"
	"github.com/sessionkit/sessionkit/bench/internal/signin"
	"github.com/sessionkit/sessionkit/internal/cputime"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each round")
	rounds := flag.Int("rounds", 3, "rounds per server (alternating)")
	conns := flag.Int("c", 32, "connections")
	gen := flag.String("gen", "auto", "load generator: wrk, go, or auto (wrk if on PATH)")
	refresh := flag.Bool("refresh", false, "check one token-endpoint call per expiry under load instead")
	ttl := flag.Duration("ttl", 2*time.Second, "with -refresh: access token lifetime")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (every server) to this file")
	flag.Parse()
	stop := func() error { return nil }
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		stop = func() error {
			pprof.StopCPUProfile()
			return f.Close()
		}
	}
	c := *conns
	if *refresh && !isFlagSet("c") {
		c = 64
	}
	err := measure(*refresh, *dur, *ttl, *rounds, c, *gen)
	if err := errors.Join(err, stop()); err != nil {
		log.Fatal(err)
	}
}

// measure runs the throughput comparison, or with refresh the refresh
// check.
func measure(refresh bool, dur, ttl time.Duration, rounds, conns int, gen string) error {
	if refresh {
		return runRefresh(dur, ttl, conns)
	}
	if gen == "auto" {
		gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			gen = "wrk"
		}
	}
	return run(dur, rounds, conns, gen)
}

func run(dur time.Duration, rounds, conns int, gen string) error {
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{random(32)}})
	if err != nil {
		return err
	}
	defer m.Close()
	cookie, err := signin.Cookie(m, "user_load")
	if err != nil {
		return err
	}

	// The handler reads the session, as an application's would.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "anonymous"
		if s, ok := sessionkit.FromContext(r.Context()); ok {
			id = s.User.ID
		}
		_, _ = io.WriteString(w, id)
	})
	bare, err := loopback.Serve(handler)
	if err != nil {
		return err
	}
	defer bare.Close()
	protected, err := loopback.Serve(m.Require(handler))
	if err != nil {
		return err
	}
	defer protected.Close()

	// The floor: the same session, decoded once, attached to every
	// request and copied for the handler as sessionkit's FromContext
	// copies it, with nothing read from the request. No middleware that
	// gives each handler its own copy of the Session serves more.
	decoded, err := m.GetServerSession(cookieRequest(cookie))
	if err != nil {
		return fmt.Errorf("decoding the session: %w", err)
	}
	floor, err := loopback.Serve(withCopy(decoded, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "anonymous"
		if s, ok := r.Context().Value(floorKey{}).(*sessionkit.Session); ok {
			id = s.Clone().User.ID
		}
		_, _ = io.WriteString(w, id)
	})))
	if err != nil {
		return err
	}
	defer floor.Close()

	headers := map[string]string{"Cookie": cookie, "Accept": "application/json"}
	// Require answers 401 to an API request without a session: check that
	// the session is accepted before measuring.
	if body, err := get(protected.URL, headers); err != nil || body != "user_load" {
		return fmt.Errorf("Require refused the session: %q %v", body, err)
	}
	if body, err := get(floor.URL, headers); err != nil || body != "user_load" {
		return fmt.Errorf("the floor server read no session: %q %v", body, err)
	}
	fmt.Printf("generator %s, %d connections, %d rounds of %s per server, Cookie header %d bytes, GOMAXPROCS %d\n",
		gen, conns, rounds, dur, len(cookie), runtime.GOMAXPROCS(0))

	type server struct {
		name       string
		url        string
		rates, cpu []float64
	}
	bs, rs, fs := &server{name: "bare", url: bare.URL}, &server{name: "require_cached", url: protected.URL}, &server{name: "floor_copy", url: floor.URL}
	servers := []*server{bs, rs, fs}
	for i := range rounds {
		// Each round starts with the next server, so that none always
		// runs right after another.
		for k := range servers {
			t := servers[(i+k)%len(servers)]
			c0 := cputime.Process()
			rate, n, err := drive(gen, t.url, headers, conns, dur)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.rates = append(t.rates, rate)
			cpu := ""
			// With wrk the load generator is another process, so this
			// process's CPU time is the servers' alone.
			if gen == "wrk" && n > 0 {
				perReq := float64((cputime.Process() - c0).Nanoseconds()) / float64(n) / 1000
				t.cpu = append(t.cpu, perReq)
				cpu = fmt.Sprintf("  server CPU %6.2f µs/req", perReq)
			}
			fmt.Printf("round %d  %-15s %10.0f req/s%s\n", i+1, t.name, rate, cpu)
		}
	}
	pairs, floorPairs := paired(rs.rates, bs.rates), paired(fs.rates, bs.rates)
	b, r, f := median(bs.rates), median(rs.rates), median(fs.rates)
	fmt.Printf("median bare           %10.0f req/s\n", b)
	fmt.Printf("median require_cached %10.0f req/s\n", r)
	fmt.Printf("median floor_copy     %10.0f req/s\n", f)
	fmt.Printf("req/s ratio require_cached/bare: %.3f of the medians, %.3f median of the %d paired rounds (goal >= 0.95)\n", r/b, median(pairs), len(pairs))
	fmt.Printf("req/s ratio floor_copy/bare: %.3f of the medians, %.3f median of the paired rounds (the floor of a middleware that copies the session for its handler)\n", f/b, median(floorPairs))
	if len(bs.cpu) > 0 {
		bc, rc, fc := median(bs.cpu), median(rs.cpu), median(fs.cpu)
		fmt.Printf("server CPU per request: bare %.2f µs, require_cached %.2f µs (%+.2f µs), floor_copy %.2f µs (%+.2f µs): at saturation require_cached serves %.3f of bare's req/s, floor_copy %.3f\n",
			bc, rc, rc-bc, fc, fc-bc, bc/rc, bc/fc)
	}
	return nil
}

// paired returns a[i]/b[i] for every round i.
func paired(a, b []float64) []float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	return r
}

type floorKey struct{}

// withCopy is the load test's floor middleware: it attaches s to every
// request with context.WithValue and r.WithContext, and does nothing else.
func withCopy(s *sessionkit.Session, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), floorKey{}, s)))
	})
}

// cookieRequest is a request carrying the Cookie header cookie.
func cookieRequest(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	r.Header.Set("Cookie", cookie)
	return r
}

func get(url string, headers map[string]string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

// drive loads url for dur and returns the requests per second and the
// number of requests served.
func drive(gen, url string, headers map[string]string, conns int, dur time.Duration) (float64, int64, error) {
	if gen == "wrk" {
		return driveWrk(url, headers, conns, dur)
	}
	return driveGo(url, headers, conns, dur)
}

var (
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkCount  = regexp.MustCompile(`(\d+) requests in`)
	wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// driveWrk runs wrk with one thread (the machine has two cores: one for
// wrk, the rest for the server) for dur.
func driveWrk(url string, headers map[string]string, conns int, dur time.Duration) (float64, int64, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(dur.Seconds())) + "s"}
	for k, v := range headers {
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, url+"/")
	ctx, cancel := context.WithTimeout(context.Background(), dur+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if e := wrkErrors.Find(out); e != nil {
		return 0, 0, fmt.Errorf("wrk reported errors: %s", e)
	}
	mt := wrkRate.FindSubmatch(out)
	if mt == nil {
		return 0, 0, fmt.Errorf("no Requests/sec in wrk's output: %s", out)
	}
	rate, err := strconv.ParseFloat(string(mt[1]), 64)
	if err != nil {
		return 0, 0, err
	}
	var n int64
	if c := wrkCount.FindSubmatch(out); c != nil {
		n, _ = strconv.ParseInt(string(c[1]), 10, 64)
	}
	return rate, n, nil
}

// driveGo keeps conns keep-alive connections busy for dur and counts the
// 200 responses.
func driveGo(url string, headers map[string]string, conns int, dur time.Duration) (float64, int64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var ok, bad atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			var buf bytes.Buffer
			for time.Now().Before(deadline) {
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					bad.Add(1)
					continue
				}
				buf.Reset()
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := bad.Load(); n > 0 {
		err, _ := firstErr.Load().(error)
		return 0, 0, errors.Join(fmt.Errorf("%d failed requests", n), err)
	}
	return float64(ok.Load()) / elapsed.Seconds(), ok.Load(), nil
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runRefresh serves Middleware with a session whose access tokens live ttl
// to conns clients for dur, and checks that the token endpoint is called
// exactly once per expiry.
func runRefresh(dur, ttl time.Duration, conns int) error {
	var (
		mu      sync.Mutex
		current = "refresh-0" // the one refresh token the provider accepts
		calls   int
		reused  int
	)
	refreshHook := func(_ context.Context, _ *oauth2.Config, t *oauth2.Token) (*oauth2.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if t.RefreshToken != current {
			reused++
			return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant"}
		}
		current = "refresh-" + strconv.Itoa(calls)
		return &oauth2.Token{AccessToken: "access-" + strconv.Itoa(calls) + strings.Repeat("a", 880),
			RefreshToken: current, TokenType: "Bearer", Expiry: time.Now().Add(ttl)}, nil
	}
	var failed atomic.Int64
	m, err := sessionkit.New(sessionkit.Config{
		Keys: [][]byte{random(32)},
		Providers: []sessionkit.Provider{{ID: "idp", ClientID: "load", AuthURL: "https://idp.example/authorize",
			TokenURL: "https://idp.example/token", AuthStyle: oauth2.AuthStyleInHeader, Refresh: refreshHook}},
		Callbacks: sessionkit.Callbacks{
			OnAccessTokenError: func(context.Context, *sessionkit.Session, error) { failed.Add(1) },
		},
	})
	if err != nil {
		return err
	}
	defer m.Close()
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/callback", nil), sessionkit.SignInParams{
		Token: &oauth2.Token{AccessToken: strings.Repeat("a", 900), RefreshToken: current, TokenType: "Bearer",
			Expiry: time.Now().Add(ttl)},
		User: &sessionkit.User{ID: "user_load"}, Provider: "idp",
	}); err != nil {
		return err
	}
	initial := rec.Result().Cookies()

	var stale atomic.Int64 // responses whose session carried a failed refresh
	srv, err := loopback.Serve(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionkit.FromContext(r.Context())
		if !ok {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if s.Error != "" {
			stale.Add(1)
		}
		_, _ = io.WriteString(w, s.User.ID)
	})))
	if err != nil {
		return err
	}
	defer srv.Close()

	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var ok, bad atomic.Int64
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			jar := map[string]string{}
			for _, c := range initial {
				jar[c.Name] = c.Value
			}
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
				for k, v := range jar {
					req.AddCookie(&http.Cookie{Name: k, Value: v})
				}
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad.Add(1)
					continue
				}
				ok.Add(1)
				for _, c := range resp.Cookies() { // what a browser keeps
					if c.MaxAge < 0 || c.Value == "" {
						delete(jar, c.Name)
					} else {
						jar[c.Name] = c.Value
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	// The refresh is due once half the token's lifetime has passed (the
	// effective leeway is min(RefreshLeeway, ttl/2)).
	expected := int(elapsed / (ttl / 2))
	fmt.Printf("%d clients, %s, access tokens of %s (refreshed every %s): %d requests (%.0f req/s), %d failed\n",
		conns, elapsed.Round(time.Millisecond), ttl, ttl/2, ok.Load(), float64(ok.Load())/elapsed.Seconds(), bad.Load())
	fmt.Printf("token endpoint calls: %d (about %d expiries in %s), refresh tokens reused: %d, failed refreshes: %d, responses with RefreshAccessTokenError: %d\n",
		calls, expected, elapsed.Round(time.Millisecond), reused, failed.Load(), stale.Load())
	if reused > 0 || failed.Load() > 0 || stale.Load() > 0 || bad.Load() > 0 || calls == 0 || calls > expected+1 {
		return errors.New("NOT MET: not exactly one token-endpoint call per expiry")
	}
	fmt.Println("met: one token-endpoint call per expiry, no refresh token sent twice")
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
