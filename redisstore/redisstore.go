package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/store"

	"github.com/redis/rueidis"
)

// Defaults for the zero values of Config.
const (
	// DefaultPrefix is the key prefix when Config.Prefix is empty.
	DefaultPrefix = "sessionkit:"
	// DefaultTimeout bounds every call when Config.Timeout is zero.
	DefaultTimeout = 3 * time.Second
	// DefaultCacheTTL is how long a record may stay in the client-side
	// cache when Config.CacheTTL is zero.
	DefaultCacheTTL = time.Minute
	// DefaultCacheSize is the client-side cache's size in bytes when
	// Config.CacheSize is zero.
	DefaultCacheSize = 64 << 20
)

// Config configures a Store. The zero value is valid.
type Config struct {
	// Prefix starts every key the store reads or writes, so that several
	// applications (or tests) can share one Redis database. Default
	// DefaultPrefix.
	Prefix string
	// Timeout bounds every call of the Store, whatever its context says:
	// a call that has not finished after Timeout (a server that stopped
	// answering, a connection being re-established) fails with an error
	// wrapping context.DeadlineExceeded. A context that is done sooner
	// ends the call sooner. New also bounds each connection attempt and
	// the wait for each reply with it. Default DefaultTimeout.
	Timeout time.Duration
	// CacheTTL bounds how long Load may serve a record from the
	// client-side cache; Redis invalidates a cached record as soon as it
	// changes, so this is only a safety net. Default DefaultCacheTTL.
	CacheTTL time.Duration
	// CacheSize is the size of the client-side cache in bytes. Default
	// DefaultCacheSize. Only New applies it.
	CacheSize int
	// DisableCache makes every Load ask Redis (a network round trip per
	// request) instead of serving from the client-side cache.
	DisableCache bool
}

// Store is a store.Store on Redis. It is safe for concurrent use, by
// many goroutines and many processes sharing one Redis.
type Store struct {
	c        rueidis.Client
	owned    bool // Close closes c
	prefix   string
	timeout  time.Duration
	cacheTTL time.Duration
	noCache  bool
	close    sync.Once
}

var _ store.Store = (*Store)(nil)

// New connects to Redis at url, a single server, a Redis Cluster or the
// sentinels of a master set (see the package documentation for the URL of
// each), and returns a Store using that connection. It returns when
// connected, or with an error when ctx is done first or a connection
// attempt exceeds cfg.Timeout. The Store owns the connection: Close it.
//
// All commands to a server share one connection, pipelined: that is what
// lets the store see its own writes at once (see Load), and one pipelined
// connection carries tens of thousands of commands a second.
func New(ctx context.Context, url string, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opt, err := rueidis.ParseURL(hostsToAddrs(url))
	if err != nil {
		return nil, fmt.Errorf("sessionkit: redisstore: invalid Redis URL: %w", urlError(err))
	}
	opt.ClientName = "sessionkit"
	opt.PipelineMultiplex = -1 // one connection a server: see Load
	opt.DisableCache = cfg.DisableCache
	opt.CacheSizeEachConn = cfg.CacheSize
	opt.Dialer.Timeout = cfg.Timeout
	opt.ConnWriteTimeout = cfg.Timeout

	// Connections dialed while New runs are closed when ctx is done, so
	// that New returns even if the server accepts and never answers.
	g := &dialGuard{ctx: ctx, building: true, dial: opt.DialCtxFn}
	if g.dial == nil {
		g.dial = dialTCP
	}
	opt.DialCtxFn = g.dialCtx
	c, err := rueidis.NewClient(opt)
	g.done()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return nil, fmt.Errorf("sessionkit: redisstore: connecting to Redis: %w", err)
	}
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("sessionkit: redisstore: connecting to Redis: %w", err)
	}
	return newStore(c, true, cfg), nil
}

// hostsToAddrs rewrites a URL that lists several hosts separated by
// commas ("redis://a:7000,b:7000/0") into the form rueidis.ParseURL reads:
// the first host, and the others as addr query parameters.
func hostsToAddrs(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	at := strings.LastIndexByte(authority, '@') + 1
	hosts := strings.Split(authority[at:], ",")
	if len(hosts) < 2 {
		return raw
	}
	path, frag, hasFrag := strings.Cut(tail, "#")
	var extra strings.Builder
	for _, h := range hosts[1:] {
		extra.WriteString("&addr=")
		extra.WriteString(url.QueryEscape(h))
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	out := scheme + "://" + authority[:at] + hosts[0] + path + sep + extra.String()[1:]
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// dialGuard dials for New: while New runs, connections are dialed with
// New's ctx and closed when it is done; afterwards, as rueidis asks.
type dialGuard struct {
	ctx      context.Context
	dial     func(context.Context, string, *net.Dialer, *tls.Config) (net.Conn, error)
	mu       sync.Mutex
	building bool
	stops    []func() bool
}

func (g *dialGuard) dialCtx(dctx context.Context, addr string, d *net.Dialer, tc *tls.Config) (net.Conn, error) {
	g.mu.Lock()
	b := g.building
	g.mu.Unlock()
	if b {
		dctx = g.ctx
	}
	conn, err := g.dial(dctx, addr, d, tc)
	if err != nil || !b {
		return conn, err
	}
	stop := context.AfterFunc(g.ctx, func() { conn.Close() })
	g.mu.Lock()
	g.stops = append(g.stops, stop)
	g.mu.Unlock()
	return conn, nil
}

// done ends New's watch over the connections dialed so far.
func (g *dialGuard) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.building = false
	for _, stop := range g.stops {
		stop()
	}
}

// NewFromClient returns a Store that uses c, which stays the caller's:
// Close does not close it. cfg.CacheSize does not apply, and cfg.Timeout
// bounds only the Store's calls: set c's own options for the rest.
//
// Build c with ClientOption.PipelineMultiplex set to -1 (one connection),
// as New does. With several connections, a Load that follows the store's
// own Save may, for a moment, still return the previous version from the
// cache: never a lost update (a Save based on it fails with ErrConflict),
// but a surprise.
func NewFromClient(c rueidis.Client, cfg Config) (*Store, error) {
	if c == nil {
		return nil, errors.New("sessionkit: redisstore: NewFromClient: nil client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newStore(c, false, cfg), nil
}

func newStore(c rueidis.Client, owned bool, cfg Config) *Store {
	return &Store{c: c, owned: owned, prefix: cfg.Prefix, timeout: cfg.Timeout, cacheTTL: cfg.CacheTTL, noCache: cfg.DisableCache}
}

// boundLazily is bound with a timer that starts only if the call waits.
func (s *Store) boundLazily(ctx context.Context) (context.Context, func()) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	c := newLazyDeadline(ctx, time.Now().Add(s.timeout))
	return c, c.stop
}

// bound applies Config.Timeout to a call's context.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Timeout < 0:
		return cfg, errors.New("sessionkit: redisstore: Config.Timeout must not be negative")
	case cfg.CacheTTL < 0:
		return cfg, errors.New("sessionkit: redisstore: Config.CacheTTL must not be negative (set DisableCache)")
	case cfg.CacheSize < 0:
		return cfg, errors.New("sessionkit: redisstore: Config.CacheSize must not be negative")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, DefaultPrefix)
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	cfg.CacheTTL = cmp.Or(cfg.CacheTTL, DefaultCacheTTL)
	cfg.CacheSize = cmp.Or(cfg.CacheSize, DefaultCacheSize)
	return cfg, nil
}

// urlError drops the URL from a parse error: it may hold a password.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func dialTCP(ctx context.Context, addr string, d *net.Dialer, tc *tls.Config) (net.Conn, error) {
	if tc != nil {
		return (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

// Close closes the connection if New made it. Close is idempotent.
func (s *Store) Close() error {
	s.close.Do(func() {
		if s.owned {
			s.c.Close()
		}
	})
	return nil
}

func (s *Store) sessionKey(id string) string { return s.prefix + "s:" + id }

// fields are the hash fields of a session, in the order Load reads them.
var fields = []string{"v", "e", "u", "p", "d", "o"}

// Load implements store.Store.
//
// Load serves a record from the client-side cache when it can. Redis
// invalidates the cached copy when the record changes; a Load on this
// Store after its own Save or Delete has returned always sees the change,
// and a Load on another instance sees it once the invalidation has crossed
// the network (one hop: well under a millisecond on a LAN). Nothing is
// lost meanwhile: a Save based on a stale version fails with ErrConflict.
// When the connection to Redis breaks, the cache is dropped.
func (s *Store) Load(ctx context.Context, id string) (store.Record, error) {
	// A client built elsewhere may have a cache of its own whose replies
	// are views of a buffer it reuses: only the Store's own client's
	// replies are shared.
	return s.load(ctx, id, s.owned && store.SharedLoad(ctx, s))
}

// load is Load. With shared (a caller that only reads: see
// store.SharedLoad) the Record's Data shares the bytes of the
// reply, which a client-side cache hit shares with every other reader of
// the key.
func (s *Store) load(ctx context.Context, id string, shared bool) (store.Record, error) {
	if id == "" {
		if err := ctx.Err(); err != nil {
			return store.Record{}, err
		}
		return store.Record{}, store.ErrNotFound
	}
	key := s.sessionKey(id)
	var res rueidis.RedisResult
	if s.noCache {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		res = s.c.Do(ctx, s.c.B().Hmget().Key(key).Field(fields...).Build())
	} else {
		// A cache hit answers at once: the timer is started only for a
		// read that waits on Redis.
		lctx, stop := s.boundLazily(ctx)
		defer stop()
		res = s.c.DoCache(lctx, s.c.B().Hmget().Key(key).Field(fields...).Cache(), s.cacheTTL)
	}
	vals, err := res.ToArray()
	if err != nil {
		return store.Record{}, fmt.Errorf("sessionkit: redisstore: load: %w", err)
	}
	rec, ok, err := parseRecord(id, vals, shared)
	if err != nil {
		return store.Record{}, err
	}
	if !ok {
		return store.Record{}, store.ErrNotFound
	}
	return rec, nil
}

// parseRecord reads the fields of a session hash, in the order of fields;
// ok is false if the hash does not exist. With shared, Data shares the
// reply's bytes instead of copying them.
func parseRecord(id string, vals []rueidis.RedisMessage, shared bool) (rec store.Record, ok bool, err error) {
	if len(vals) != len(fields) || vals[0].IsNil() {
		return rec, false, nil
	}
	var str [6]string
	for i := range vals {
		if i == 5 && vals[i].IsNil() {
			continue // written before other user IDs were kept
		}
		if str[i], err = vals[i].ToString(); err != nil {
			return rec, false, fmt.Errorf("sessionkit: redisstore: malformed session record: field %s: %w", fields[i], err)
		}
	}
	v, err1 := strconv.ParseUint(str[0], 10, 64)
	ms, err2 := strconv.ParseInt(str[1], 10, 64)
	if err1 != nil || err2 != nil || v == 0 {
		return rec, false, errors.New("sessionkit: redisstore: malformed session record: bad version or expiry")
	}
	rec = store.Record{
		ID:       id,
		UserID:   str[2],
		Version:  v,
		ExpireAt: time.UnixMilli(ms),
	}
	if shared {
		rec.Data = unsafe.Slice(unsafe.StringData(str[4]), len(str[4]))
	} else {
		rec.Data = []byte(str[4])
	}
	if str[3] != "" {
		rec.ProviderSessionIDs = strings.Split(str[3], "\x00")
	}
	if str[5] != "" {
		rec.OtherUserIDs = strings.Split(str[5], "\x00")
	}
	return rec, true, nil
}

// Lock implements store.Store with SET NX PX and a random token; the
// unlock func deletes the key only if it still holds that token.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if err := store.ValidateLease("Lock", key, ttl); err != nil {
		return nil, err
	}
	token := rand.Text()
	k := s.prefix + "l:" + key
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.c.Do(ctx, s.c.B().Set().Key(k).Value(token).Nx().PxMilliseconds(millis(ttl)).Build()).Error()
	switch {
	case rueidis.IsRedisNil(err):
		return nil, store.ErrLocked
	case err != nil:
		return nil, fmt.Errorf("sessionkit: redisstore: lock: %w", err)
	}
	return func(ctx context.Context) error {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		if err := s.eval(ctx, unlockScript, false, k, token).Error(); err != nil {
			return fmt.Errorf("sessionkit: redisstore: unlock: %w", err)
		}
		return nil
	}, nil
}

// Consume implements store.Store with SET NX PX.
func (s *Store) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := store.ValidateLease("Consume", key, ttl); err != nil {
		return false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.c.Do(ctx, s.c.B().Set().Key(s.prefix+"c:"+key).Value("1").Nx().PxMilliseconds(millis(ttl)).Build()).Error()
	switch {
	case rueidis.IsRedisNil(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sessionkit: redisstore: consume: %w", err)
	}
	return true, nil
}

// millis rounds ttl up to whole milliseconds, Redis's resolution.
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}
