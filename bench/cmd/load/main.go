// Command load measures goal 4 of issue #7 on loopback: the requests per
// second of a handler behind sessionkit's Require with a cached cookie
// session, against the same handler bare. Both servers get the same
// requests (the same 4 KB session cookie and Accept header), so the
// difference is the middleware alone. Rounds alternate between the two
// servers so that noise from other processes falls on both; the median of
// each is reported with their ratio.
//
// It drives the servers with wrk when wrk is on PATH (Debian: apt-get
// install wrk), else with a Go load generator. Every round is bounded by
// -d and the program stops by itself.
//
//	go run ./bench/cmd/load                 # 3 rounds of 10 s per server
//	go run ./bench/cmd/load -d 5s -rounds 5 -c 64 -gen go
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
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each round")
	rounds := flag.Int("rounds", 3, "rounds per server (alternating)")
	conns := flag.Int("c", 32, "connections")
	gen := flag.String("gen", "auto", "load generator: wrk, go, or auto (wrk if on PATH)")
	flag.Parse()
	if *gen == "auto" {
		*gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			*gen = "wrk"
		}
	}
	if err := run(*dur, *rounds, *conns, *gen); err != nil {
		log.Fatal(err)
	}
}

func run(dur time.Duration, rounds, conns int, gen string) error {
	m, err := sessionkit.New(sessionkit.Config{Keys: []sessionkit.KeyPair{{HashKey: random(32), BlockKey: random(32)}}})
	if err != nil {
		return err
	}
	defer m.Close()
	cookie, err := signIn(m)
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
	bare, err := serve(handler)
	if err != nil {
		return err
	}
	defer bare.Close()
	protected, err := serve(m.Require(handler))
	if err != nil {
		return err
	}
	defer protected.Close()

	headers := map[string]string{"Cookie": cookie, "Accept": "application/json"}
	// Require answers 401 to an API request without a session: check that
	// the session is accepted before measuring.
	if body, err := get(protected.URL, headers); err != nil || body != "user_load" {
		return fmt.Errorf("Require refused the session: %q %v", body, err)
	}
	fmt.Printf("generator %s, %d connections, %d rounds of %s per server, Cookie header %d bytes, GOMAXPROCS %s\n",
		gen, conns, rounds, dur, len(cookie), os.Getenv("GOMAXPROCS"))

	var bareRates, reqRates []float64
	for i := range rounds {
		for _, t := range []struct {
			name  string
			url   string
			rates *[]float64
		}{{"bare", bare.URL, &bareRates}, {"require_cached", protected.URL, &reqRates}} {
			rate, err := drive(gen, t.url, headers, conns, dur)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			*t.rates = append(*t.rates, rate)
			fmt.Printf("round %d  %-15s %10.0f req/s\n", i+1, t.name, rate)
		}
	}
	b, r := median(bareRates), median(reqRates)
	fmt.Printf("median         bare %10.0f req/s\n", b)
	fmt.Printf("median require_cached %7.0f req/s\n", r)
	fmt.Printf("ratio require_cached/bare = %.3f (goal >= 0.95)\n", r/b)
	return nil
}

// signIn makes a session with the tokens (900-byte access,
// 100-byte refresh, 1000-byte ID token) and returns its Cookie header.
func signIn(m *sessionkit.Manager) (string, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/callback", nil)
	_, err := m.SignIn(rec, req, sessionkit.SignInParams{
		Token: &oauth2.Token{AccessToken: strings.Repeat("a", 900), RefreshToken: strings.Repeat("r", 100),
			TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)},
		User: &sessionkit.User{ID: "user_load", Email: "load@example.com", Name: "Load"},
	})
	if err != nil {
		return "", err
	}
	req = httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	if _, err := m.UpdateSession(rec, req, func(s *sessionkit.Session) error {
		s.IDToken = strings.Repeat("i", 1000)
		return nil
	}); err != nil {
		return "", err
	}
	var parts []string
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; "), nil
}

func serve(h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	s.Start()
	return s, nil
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

func drive(gen, url string, headers map[string]string, conns int, dur time.Duration) (float64, error) {
	if gen == "wrk" {
		return driveWrk(url, headers, conns, dur)
	}
	return driveGo(url, headers, conns, dur)
}

var (
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// driveWrk runs wrk with one thread (the machine has two cores: one for
// wrk, the rest for the server) for dur.
func driveWrk(url string, headers map[string]string, conns int, dur time.Duration) (float64, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(dur.Seconds())) + "s"}
	for k, v := range headers {
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, url+"/")
	ctx, cancel := context.WithTimeout(context.Background(), dur+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if e := wrkErrors.Find(out); e != nil {
		return 0, fmt.Errorf("wrk reported errors: %s", e)
	}
	mt := wrkRate.FindSubmatch(out)
	if mt == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk's output: %s", out)
	}
	return strconv.ParseFloat(string(mt[1]), 64)
}

// driveGo keeps conns keep-alive connections busy for dur and counts the
// 200 responses.
func driveGo(url string, headers map[string]string, conns int, dur time.Duration) (float64, error) {
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
		return 0, errors.Join(fmt.Errorf("%d failed requests", n), err)
	}
	return float64(ok.Load()) / elapsed.Seconds(), nil
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
