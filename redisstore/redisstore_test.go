package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"github.com/redis/rueidis"
	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/redisstore"
)

// redisURL returns $SESSIONKIT_REDIS_URL, the single Redis most tests
// run on. Without it the test is skipped, except in CI (CI=true), where
// the Redis tests must run.
func redisURL(t testing.TB) string {
	t.Helper()
	return topologyURL(t, topologies[0])
}

// rawClient is a plain client of the single Redis to look at and clean up
// the store's keys.
func rawClient(t testing.TB) rueidis.Client {
	t.Helper()
	return rawClientAt(t, redisURL(t))
}

// testPrefix returns a key prefix of the test's own on the single Redis,
// whose keys are deleted when the test ends.
func testPrefix(t testing.TB) string {
	t.Helper()
	return testPrefixAt(t, redisURL(t))
}

// newStore returns a Store on the single Redis, closed when the test ends.
func newStore(t testing.TB, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	return newStoreAt(t, redisURL(t), cfg)
}

// TestConformance runs the Store conformance suite on each topology, with
// and without the client-side cache.
func TestConformance(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		for _, cfg := range []struct {
			name string
			cfg  redisstore.Config
		}{
			{"cache", redisstore.Config{}},
			{"no cache", redisstore.Config{DisableCache: true}},
		} {
			t.Run(cfg.name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) storetest.Harness {
					return storetest.Harness{Store: newStoreAt(t, url, cfg.cfg), Full: true}
				})
			})
		}
	})
}

func TestNewErrors(t *testing.T) {
	redisURL(t) // these need no server, but run with the Redis tests
	closed := closedAddr(t)
	tests := []struct {
		name    string
		url     string
		cfg     redisstore.Config
		secret  string // must not appear in the error
		wantCtx error  // the error must wrap this
	}{
		{name: "bad scheme", url: "http://user:hunter2pass@127.0.0.1:6379/0", secret: "hunter2pass"},
		{name: "unparsable URL", url: "redis://user:hunter2pass@127.0.0.1:bad port/0", secret: "hunter2pass"},
		{name: "connection refused", url: "redis://user:hunter2pass@" + closed + "/0", secret: "hunter2pass"},
		{name: "negative Timeout", url: "redis://127.0.0.1:6379/0", cfg: redisstore.Config{Timeout: -1}},
		{name: "negative CacheTTL", url: "redis://127.0.0.1:6379/0", cfg: redisstore.Config{CacheTTL: -1}},
		{name: "negative CacheSize", url: "redis://127.0.0.1:6379/0", cfg: redisstore.Config{CacheSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redisstore.New(t.Context(), tt.url, tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("got no error, want one")
			}
			if !strings.HasPrefix(err.Error(), "sessionkit: redisstore: ") {
				t.Errorf("got %q, want the prefix %q", err, "sessionkit: redisstore: ")
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("got %q, which shows the URL's password", err)
			}
		})
	}
	if _, err := redisstore.NewFromClient(nil, redisstore.Config{}); err == nil {
		t.Error("NewFromClient(nil): got no error, want one")
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestNewFromClient(t *testing.T) {
	c := rawClient(t)
	s, err := redisstore.NewFromClient(c, redisstore.Config{Prefix: testPrefix(t)})
	if err != nil {
		t.Fatalf("NewFromClient: got error %v, want none", err)
	}
	rec := store.Record{ID: "a", UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: []byte("x")}
	if _, err := s.Save(t.Context(), rec); err != nil {
		t.Fatalf("Save: got error %v, want none", err)
	}
	s.Close() // does not close c
	if err := c.Do(t.Context(), c.B().Ping().Build()).Error(); err != nil {
		t.Errorf("the client after Store.Close: got error %v, want none", err)
	}
}

// TestKeys checks the layout of the keys, and that each expires with what
// it holds.
func TestKeys(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		ctx := t.Context()
		prefix := testPrefixAt(t, url)
		s := newStoreAt(t, url, redisstore.Config{Prefix: prefix})
		c := rawClientAt(t, url)
		expire := time.Now().Add(time.Hour).Truncate(time.Millisecond)
		rec := store.Record{ID: "id1", UserID: "user1", ProviderSessionIDs: []string{"sid1"}, ExpireAt: expire, Data: []byte("data")}
		if _, err := s.Save(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lock(ctx, "lk", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Consume(ctx, "ck", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			key      string
			expireAt time.Time
		}{
			{prefix + "s:id1", expire},
			{prefix + "u:user1", expire},
			{prefix + "p:sid1", expire},
			{prefix + "l:lk", time.Now().Add(time.Minute)},
			{prefix + "c:ck", time.Now().Add(2 * time.Minute)},
		}
		for _, tt := range tests {
			ms, err := c.Do(ctx, c.B().Pexpiretime().Key(tt.key).Build()).AsInt64()
			if err != nil {
				t.Fatalf("PEXPIRETIME %s: %v", tt.key, err)
			}
			if got := time.UnixMilli(ms); got.Sub(tt.expireAt).Abs() > time.Second {
				t.Errorf("%s: got expiry %v (%d), want %v", tt.key, got, ms, tt.expireAt)
			}
		}
		fields, err := c.Do(ctx, c.B().Hgetall().Key(prefix+"s:id1").Build()).AsStrMap()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"v": "1", "e": strconv.FormatInt(expire.UnixMilli(), 10), "u": "user1", "p": "sid1", "d": "data"}
		if fmt.Sprint(fields) != fmt.Sprint(want) {
			t.Errorf("session hash: got %v, want %v", fields, want)
		}

		if err := s.Delete(ctx, "id1"); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{prefix + "s:id1", prefix + "u:user1", prefix + "p:sid1"} {
			if n, err := c.Do(ctx, c.B().Exists().Key(key).Build()).AsInt64(); err != nil || n != 0 {
				t.Errorf("%s after Delete: got (exists %d, %v), want (0, nil)", key, n, err)
			}
		}
	})
}

// TestListPrunes checks that a listing drops index members whose session
// is gone or has moved, and members whose score has passed.
func TestListPrunes(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		ctx := t.Context()
		prefix := testPrefixAt(t, url)
		s := newStoreAt(t, url, redisstore.Config{Prefix: prefix})
		c := rawClientAt(t, url)
		live := store.Record{ID: "live", UserID: "u", ExpireAt: time.Now().Add(time.Hour)}
		other := store.Record{ID: "other", UserID: "someone-else", ExpireAt: time.Now().Add(time.Hour)}
		for _, r := range []store.Record{live, other} {
			if _, err := s.Save(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
		for _, m := range []struct{ score, id string }{{future, "gone"}, {future, "other"}, {"1000", "ancient"}} {
			f, _ := strconv.ParseFloat(m.score, 64)
			if err := c.Do(ctx, c.B().Zadd().Key(prefix+"u:u").ScoreMember().ScoreMember(f, m.id).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
		recs, err := s.ListByUser(ctx, "u")
		if err != nil || len(recs) != 1 || recs[0].ID != "live" {
			t.Fatalf("ListByUser: got (%v, %v), want the record live", recs, err)
		}
		members, err := c.Do(ctx, c.B().Zrange().Key(prefix+"u:u").Min("0").Max("-1").Build()).AsStrSlice()
		if err != nil || fmt.Sprint(members) != "[live]" {
			t.Errorf("index after ListByUser: got (%v, %v), want [live]", members, err)
		}
	})
}

// TestOtherInstance checks that an update made through one Store reaches
// another Store's cache.
func TestOtherInstance(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		ctx := t.Context()
		prefix := testPrefixAt(t, url)
		a := newStoreAt(t, url, redisstore.Config{Prefix: prefix})
		b := newStoreAt(t, url, redisstore.Config{Prefix: prefix})
		rec := store.Record{ID: "shared", UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: []byte("v1")}
		var err error
		if rec.Version, err = a.Save(ctx, rec); err != nil {
			t.Fatal(err)
		}
		const rounds = 50
		var worst time.Duration
		for i := range rounds {
			if got, err := b.Load(ctx, "shared"); err != nil || got.Version != rec.Version { // now cached by b
				t.Fatalf("round %d: b.Load: got (version %d, %v), want (%d, nil)", i, got.Version, err, rec.Version)
			}
			rec.Data = fmt.Appendf(nil, "v%d", i+2)
			if rec.Version, err = a.Save(ctx, rec); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for {
				got, err := b.Load(ctx, "shared")
				if err != nil {
					t.Fatal(err)
				}
				if got.Version == rec.Version {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("round %d: b still sees version %d 2 s after a saved %d", i, got.Version, rec.Version)
				}
				time.Sleep(50 * time.Microsecond)
			}
			worst = max(worst, time.Since(start))
		}
		t.Logf("the other instance saw each update within %v at worst", worst)

		if err := a.Delete(ctx, "shared"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			_, err := b.Load(ctx, "shared")
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("b.Load 2 s after a.Delete: got error %v, want ErrNotFound", err)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
}

// TestReadYourWrites checks that a Load after the Store's own Save never
// returns the previous version from the cache.
func TestReadYourWrites(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		s := newStoreAt(t, url, redisstore.Config{})
		const goroutines, rounds = 4, 500
		var stale atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				ctx := t.Context()
				rec := store.Record{ID: fmt.Sprint("ryw-", g), UserID: "u", ExpireAt: time.Now().Add(time.Hour)}
				for range rounds {
					v, err := s.Save(ctx, rec)
					if err != nil {
						errs <- err
						return
					}
					rec.Version = v
					got, err := s.Load(ctx, rec.ID)
					if err != nil {
						errs <- err
						return
					}
					if got.Version != v {
						stale.Add(1)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("got error %v, want none", err)
		}
		if got := stale.Load(); got != 0 {
			t.Errorf("got %d stale Loads of %d, want 0", got, goroutines*rounds)
		}
	})
}

// proxy forwards TCP connections to a Redis server until frozen; then it
// forwards nothing more, like a server that stopped answering.
type proxy struct {
	ln     net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			var out net.Conn
			if target != "" {
				if out, err = net.Dial("tcp", target); err != nil {
					in.Close()
					continue
				}
			}
			p.mu.Lock()
			p.conns = append(p.conns, in)
			if out != nil {
				p.conns = append(p.conns, out)
			}
			p.mu.Unlock()
			if out == nil {
				continue // a server that accepts and never answers
			}
			p.wg.Go(func() { p.pipe(out, in) })
			p.wg.Go(func() { p.pipe(in, out) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if p.frozen.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestHang checks that no call outlives its context, nor Config.Timeout,
// when the server stops answering.
func TestHang(t *testing.T) {
	target, err := url.Parse(redisURL(t))
	if err != nil || target.Scheme != "redis" {
		t.Skip("SESSIONKIT_REDIS_URL is not a redis:// URL: the proxy speaks plain TCP")
	}
	const timeout = 500 * time.Millisecond
	const slack = 1500 * time.Millisecond // scheduling under -race on 2 cores
	rec := store.Record{ID: "x", UserID: "u", ExpireAt: time.Now().Add(time.Hour)}
	calls := []struct {
		name string
		call func(ctx context.Context, s *redisstore.Store) error
	}{
		{"Load", func(ctx context.Context, s *redisstore.Store) error { _, err := s.Load(ctx, "not-cached"); return err }},
		{"Save", func(ctx context.Context, s *redisstore.Store) error { _, err := s.Save(ctx, rec); return err }},
		{"ListByUser", func(ctx context.Context, s *redisstore.Store) error { _, err := s.ListByUser(ctx, "u"); return err }},
		{"Lock", func(ctx context.Context, s *redisstore.Store) error {
			_, err := s.Lock(ctx, "k", time.Second)
			return err
		}},
	}
	ctxs := []struct {
		name    string
		ctx     func(t *testing.T) (context.Context, context.CancelFunc)
		within  time.Duration
		wantErr error
	}{
		{"deadline", func(t *testing.T) (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 200*time.Millisecond)
		}, 200 * time.Millisecond, context.DeadlineExceeded},
		{"cancel", func(t *testing.T) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, 200 * time.Millisecond, context.Canceled},
		{"Config.Timeout", func(t *testing.T) (context.Context, context.CancelFunc) {
			return context.WithoutCancel(t.Context()), func() {}
		}, timeout, context.DeadlineExceeded},
	}
	for _, c := range calls {
		for _, cx := range ctxs {
			t.Run(c.name+"/"+cx.name, func(t *testing.T) {
				t.Parallel()
				p := newProxy(t, target.Host)
				via := *target
				via.Host = p.ln.Addr().String()
				ps, err := redisstore.New(t.Context(), via.String(), redisstore.Config{Timeout: timeout, Prefix: testPrefix(t)})
				if err != nil {
					t.Fatal(err)
				}
				defer ps.Close()
				if _, err := ps.Load(t.Context(), "warm"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("Load through the proxy: got error %v, want ErrNotFound", err)
				}
				p.frozen.Store(true)
				ctx, cancel := cx.ctx(t)
				defer cancel()
				start := time.Now()
				err = c.call(ctx, ps)
				took := time.Since(start)
				if err == nil {
					t.Fatal("got no error, want one")
				}
				if cx.wantErr != nil && !errors.Is(err, cx.wantErr) {
					t.Errorf("got error %v, want %v", err, cx.wantErr)
				}
				if took > cx.within+slack {
					t.Errorf("returned after %v, want within %v", took, cx.within+slack)
				}
			})
		}
	}
	t.Run("New/silent server", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, "")
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		s, err := redisstore.New(ctx, "redis://"+p.ln.Addr().String()+"/0", redisstore.Config{Timeout: 10 * time.Second})
		if err == nil {
			s.Close()
			t.Fatal("got no error, want one")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got error %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 200*time.Millisecond+slack {
			t.Errorf("returned after %v, want within %v", took, 200*time.Millisecond+slack)
		}
	})
}

// BenchmarkLoad measures Store.Load of 2 KB sessions, cached and not, on
// a single Redis and on a Redis Cluster, in one run:
//
//	go test -run '^$' -bench BenchmarkLoad -count 6 ./redisstore | benchstat -col /topology -
func BenchmarkLoad(b *testing.B) {
	for _, tp := range topologies[:2] {
		b.Run("topology="+tp.name, func(b *testing.B) {
			url := topologyURL(b, tp)
			for _, mode := range []struct {
				name string
				cfg  redisstore.Config
			}{
				{"cache", redisstore.Config{}},
				{"no-cache", redisstore.Config{DisableCache: true}},
			} {
				b.Run("mode="+mode.name, func(b *testing.B) { benchLoad(b, newStoreAt(b, url, mode.cfg)) })
			}
		})
	}
}

func benchLoad(b *testing.B, s *redisstore.Store) {
	ctx := context.Background()
	data := make([]byte, 2048) // a session with OAuth tokens
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprint("session-", i)
		rec := store.Record{ID: ids[i], UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: data}
		if _, err := s.Save(ctx, rec); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Load(ctx, ids[i]); err != nil { // warm the cache
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Load(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
