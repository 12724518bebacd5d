// Command scale measures the per-request cost of sessionkit's Middleware
// as the number of signed-in users grows: N users sign in (3 KB stateless
// cookies with a 900-byte access token, a 100-byte refresh token and a
// 1000-byte ID token; or the same sessions in a memstore, or in Redis with
// its client-side cache when SESSIONKIT_REDIS_URL is set), then one
// goroutine serves requests from users drawn uniformly (U) or by Zipf
// s=1.1 (Z), through a Manager with the default verified-credential cache
// and through one with the cache off, and prints a table: wall and CPU
// microseconds a request, allocations a request, the cache's hit ratio
// (of its lookups: while it steps aside, only one request in 64 makes
// one), and the server's heap bytes a session (the store's records and
// the cache's entries once filled, over N) beside the cache's bytes an
// entry.
//
// Each measurement runs a warm-up of min(2N, 200k) requests, then -d;
// each cell is measured -rounds times, alternating between the cache
// settings (in reverse order every other round), and its median wall and
// CPU times are printed, and for each cache setting but off the median
// over rounds of its CPU time ÷ off's in the same round (a machine whose
// speed drifts over minutes moves both cells of a round alike). The
// program stops by itself.
//
//	go run ./bench/cmd/scale                   # N = 1, 1k, 10k, 100k; 3 rounds of 1 s a cell
//	go run ./bench/cmd/scale -big -d 2s        # and N = 1M
//	go run ./bench/cmd/scale -n 1000,10000 -stores stateless
//	go run ./bench/cmd/scale -n 100000 -fits   # and a cache that holds them all
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/observe"
	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/bench/internal/signin"
	"github.com/sessionkit/sessionkit/internal/cputime"
	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/redisstore"
)

func main() {
	ns := flag.String("n", "1,1000,10000,100000", "comma-separated numbers of signed-in users")
	big := flag.Bool("big", false, "add N = 1,000,000")
	dur := flag.Duration("d", time.Second, "measured duration of each cell")
	stores := flag.String("stores", "stateless,memstore,redis", "comma-separated stores; redis only with SESSIONKIT_REDIS_URL")
	dists := flag.String("dist", "uniform,zipf", "comma-separated distributions")
	rounds := flag.Int("rounds", 3, "rounds of each cell, alternating between cache settings; medians reported")
	hot := flag.Bool("hot", false, "copy each request's Cookie header into a reused buffer just before serving it, as a server reads it from its socket, instead of reading the pre-built request's (cold at large N); the copy's own cost, measured alone, is subtracted")
	fits := flag.Bool("fits", false, "add a cache setting whose budget holds every session (8 KiB each)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *prof != "" {
		pf, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	sizes, err := parseSizes(*ns, *big)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%-10s %-4s %-9s %-8s %9s %9s %7s %6s %11s %11s %6s\n",
		"store", "dist", "N", "cache", "wall µs", "CPU µs", "allocs", "hits", "heap B/ses", "B/entry", "÷off")
	for _, store := range strings.Split(*stores, ",") {
		if store == "redis" && os.Getenv("SESSIONKIT_REDIS_URL") == "" {
			continue
		}
		for _, n := range sizes {
			if err := runStore(store, n, strings.Split(*dists, ","), *dur, *rounds, *fits, *hot); err != nil {
				log.Fatal(err)
			}
		}
	}
}

func parseSizes(s string, big bool) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("scale: bad N %q", f)
		}
		out = append(out, n)
	}
	if big {
		out = append(out, 1_000_000)
	}
	return out, nil
}

// fixture is one store at one N: the users' requests and two Managers
// (default cache, cache off) sharing keys and store.
type fixture struct {
	reqs       []*http.Request
	cookies    []string                    // each request's Cookie header
	hot        bool                        // serve each request from a copy of its header just made
	managers   []*sessionkit.Manager       // as settings names them
	cacheStats []func() observe.CacheStats // each Manager's cache counters, by its Observer
	settings   []string
	storeB     float64   // the store's heap bytes a session
	cacheB     []float64 // each Manager's cache's heap bytes, once filled
	close      func()
}

// off is the index of the cache-off setting in fixture.settings.
const off = 1

func runStore(store string, n int, dists []string, d time.Duration, rounds int, fits, hot bool) error {
	f, err := newFixture(store, n, fits)
	if err != nil {
		return err
	}
	f.hot = hot
	defer f.close()
	// One unrecorded cell of each setting first: the first requests after
	// setup grow the heap into pages the process never touched, and the
	// kernel's faults on them would fall on whichever cell came first.
	for i := range f.managers {
		measure(f, i, dists[0], d)
	}
	for _, dist := range dists {
		runs := make([][]result, len(f.managers))
		for round := range max(rounds, 1) {
			for j := range runs {
				i := j // every other round in reverse order, so that no setting always runs first
				if round%2 == 1 {
					i = len(runs) - 1 - j
				}
				// Labelled, so that -cpuprofile can be read one cell at a time
				// (go tool pprof -tagfocus cache=fits).
				labels := pprof.Labels("cache", f.settings[i], "dist", dist, "n", strconv.Itoa(n))
				pprof.Do(context.Background(), labels, func(context.Context) {
					runs[i] = append(runs[i], measure(f, i, dist, d))
				})
			}
		}
		for i, name := range f.settings {
			r := median(runs[i])
			fmt.Printf("%-10s %-4s %-9d %-8s %9.2f %9.2f %7.1f %6s %11.0f %11s %6s\n",
				store, dist[:1], n, name, r.wall, r.cpu, r.allocs, r.hits, f.storeB+r.cacheB/float64(n), r.perEntry, pairedRatio(runs[i], runs[off]))
		}
	}
	return nil
}

func heap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// addManager adds a Manager of cfg, whose cache counters are read through
// its Observer's gauges (an Observer with no other hook adds nothing to
// the read path).
func (f *fixture) addManager(cfg sessionkit.Config) error {
	var g observe.Gauges
	cfg.Observer = &observe.Observer{Register: func(mg observe.Gauges) func() { g = mg; return nil }}
	m, err := sessionkit.New(cfg)
	if err != nil {
		return err
	}
	f.managers = append(f.managers, m)
	f.cacheStats = append(f.cacheStats, g.Cache)
	return nil
}

func newFixture(store string, n int, fits bool) (*fixture, error) {
	keys, f := [][]byte{random(32)}, &fixture{}
	st, closeStore, err := openStore(store, n)
	if err != nil {
		return nil, err
	}
	// The Managers' clock stands still: no request records activity (a
	// store write, every 5 minutes without IdleTimeout) in the middle of a
	// measurement, and none falls on one cache setting more than another.
	start := time.Now()
	frozen := func() time.Time { return start }
	budgets := []int{0, -1} // as off says
	f.settings = []string{"default", "off"}
	if fits {
		budgets = append(budgets, n*8<<10)
		f.settings = append(f.settings, "fits")
	}
	for _, cache := range budgets {
		if err := f.addManager(sessionkit.Config{Keys: keys, Store: st, CacheBytes: cache, Now: frozen}); err != nil {
			closeStore()
			return nil, err
		}
	}
	f.close = func() {
		for _, m := range f.managers {
			_ = m.Close()
		}
		closeStore()
	}
	h0 := heap()
	cookies := make([]string, n)
	cookieBytes := 0
	for i := range cookies {
		c, err := signin.Cookie(f.managers[off], fmt.Sprintf("user_%07d", i))
		if err != nil {
			return nil, err
		}
		cookies[i] = c
		cookieBytes += len(c)
	}
	if store != "redis" { // Redis holds its records in its own process
		f.storeB = math.Max(0, float64(int64(heap())-int64(h0)-int64(cookieBytes))/float64(n))
	}
	f.cookies = cookies
	f.reqs = make([]*http.Request, n)
	for i, c := range cookies {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		r.Header.Set("Cookie", c)
		f.reqs[i] = r
	}
	// One request a user through the cache-off Manager: a store-backed
	// session's first request records that its cookie was seen (a write),
	// which would otherwise fall on whichever cell comes first. Then one
	// through each cached Manager, so that a cache that can hold every
	// session starts with all of them (the heap columns count the caches
	// from here).
	// Each cache's heap is what filling it added.
	f.serveAll(f.managers[off])
	f.cacheB = make([]float64, len(f.managers))
	before := heap()
	for i, m := range f.managers {
		if i != off {
			f.serveAll(m)
			after := heap() // a collection: none over the caches just filled runs into a cell
			f.cacheB[i] = math.Max(0, float64(int64(after)-int64(before)))
			before = after
		}
	}
	return f, nil
}

// serveAll serves one request of every user through m.
func (f *fixture) serveAll(m *sessionkit.Manager) {
	w := &discard{h: http.Header{}}
	noop := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, r := range f.reqs {
		noop.ServeHTTP(w, r)
	}
}

// openStore returns the store named store for n sessions (nil for
// stateless) and what closes it.
func openStore(store string, n int) (store.Store, func(), error) {
	switch store {
	case "memstore":
		ms, err := memstore.New(memstore.Config{MaxSessions: n + 1000})
		if err != nil {
			return nil, nil, err
		}
		return ms, func() { _ = ms.Close() }, nil
	case "redis":
		rs, err := redisstore.New(context.Background(), os.Getenv("SESSIONKIT_REDIS_URL"), redisstore.Config{Prefix: "sessionkit-scale:" + strconv.Itoa(n) + ":"})
		if err != nil {
			return nil, nil, err
		}
		return rs, func() { _ = rs.Close() }, nil
	case "stateless":
		return nil, func() {}, nil
	}
	return nil, nil, fmt.Errorf("scale: unknown store %q", store)
}

type result struct {
	wall, cpu, allocs float64
	hits, perEntry    string
	cacheB            float64
}

// pairedRatio returns the median over rounds of rs's CPU time ÷ offs's in
// the same round, or "-" for the off setting itself.
func pairedRatio(rs, offs []result) string {
	if &rs[0] == &offs[0] {
		return "-"
	}
	ratios := make([]float64, len(rs))
	for i := range rs {
		ratios[i] = rs[i].cpu / offs[i].cpu
	}
	slices.Sort(ratios)
	return fmt.Sprintf("%.2f", ratios[len(ratios)/2])
}

// median returns the last of rs with the median wall and CPU times of all.
func median(rs []result) result {
	r := rs[len(rs)-1]
	walls, cpus := make([]float64, len(rs)), make([]float64, len(rs))
	for i, x := range rs {
		walls[i], cpus[i] = x.wall, x.cpu
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	r.wall, r.cpu = walls[len(rs)/2], cpus[len(rs)/2]
	return r
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// picker draws user indexes: uniform or Zipf s=1.1, from a fixed seed.
func picker(dist string, n int, seed uint64) func() int {
	r := mrand.New(mrand.NewPCG(seed, 2))
	if dist == "zipf" && n > 1 {
		z := mrand.NewZipf(r, 1.1, 1, uint64(n-1))
		perm := r.Perm(n) // the hot users are not the first signed in
		return func() int { return perm[z.Uint64()] }
	}
	return func() int { return r.IntN(n) }
}

// server returns what serves user i's request through h: the pre-built
// request, or with f.hot one request whose Cookie header is a copy of
// user i's, made in a reused buffer just before (as a server's read from
// its socket leaves the bytes in the CPU's caches; measure subtracts the
// copy's cost). h keeps no reference to the header past the request, so
// the buffer can be reused. With f.hot and a nil h it only copies.
func (f *fixture) server(h http.Handler, w http.ResponseWriter) func(i int) {
	if !f.hot {
		return func(i int) { h.ServeHTTP(w, f.reqs[i]) }
	}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	hdr := []string{""}
	r.Header["Cookie"] = hdr
	buf := make([]byte, 0, 16<<10)
	return func(i int) {
		buf = append(buf[:0], f.cookies[i]...)
		hdr[0] = unsafe.String(unsafe.SliceData(buf), len(buf))
		if h != nil {
			h.ServeHTTP(w, r)
		}
	}
}

// copyCost is, with f.hot, the wall and CPU time a request spends copying
// its Cookie header (which a server pays before any handler runs, reading
// the request) and drawing its user: ops draws from dist and copies, with
// no handler. measure subtracts it, so -hot rows count the Middleware and
// handler alone (a copy timed alone runs in warmer caches than between
// requests: the subtraction errs low). It draws other users than the
// measured requests did, whose headers are as cold in memory as theirs
// were. Zero without f.hot.
func (f *fixture) copyCost(dist string, ops int) (wall, cpu time.Duration) {
	if !f.hot {
		return 0, 0
	}
	pick, serve := picker(dist, len(f.reqs), 3), f.server(nil, nil)
	c0, t0 := cputime.Process(), time.Now()
	for range ops {
		serve(pick())
	}
	return time.Since(t0), cputime.Process() - c0
}

func measure(f *fixture, i int, dist string, d time.Duration) result {
	m, cache := f.managers[i], f.cacheStats[i]
	var sink *sessionkit.Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink, _ = sessionkit.FromContext(r.Context())
	}))
	w := &discard{h: http.Header{}}
	pick := picker(dist, len(f.reqs), 1)
	serve := f.server(h, w)
	for range min(2*len(f.reqs), 200_000) {
		serve(pick())
	}
	if sink == nil || sink.Status != sessionkit.StatusActive {
		log.Fatal("scale: no active session")
	}
	// Each cell starts from a collection, as a Go benchmark does: a cycle
	// that a cell's allocation did not cause (marking a heap of gigabytes
	// takes seconds of CPU at N = 1M) is not charged to it.
	runtime.GC()
	st0 := cache()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	c0, t0 := cputime.Process(), time.Now()
	ops := 0
	for time.Since(t0) < d {
		for range 256 {
			serve(pick())
		}
		ops += 256
	}
	wall, cpu := time.Since(t0), cputime.Process()-c0
	runtime.ReadMemStats(&ms1)
	st1 := cache()
	copyWall, copyCPU := f.copyCost(dist, ops)
	wall, cpu = wall-copyWall, cpu-copyCPU
	r := result{
		wall:   float64(wall.Microseconds()) / float64(ops),
		cpu:    float64(cpu.Microseconds()) / float64(ops),
		allocs: float64(ms1.Mallocs-ms0.Mallocs) / float64(ops),
		hits:   "-", perEntry: "-",
	}
	if lookups := (st1.Hits - st0.Hits) + (st1.Misses - st0.Misses); lookups > 0 {
		r.hits = fmt.Sprintf("%.3f", float64(st1.Hits-st0.Hits)/float64(lookups))
	}
	if st1.Entries > 0 {
		r.cacheB = f.cacheB[i]
		r.perEntry = fmt.Sprintf("%.0f", r.cacheB/float64(st1.Entries))
	}
	return r
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
