// Package redisstore is a store.Store on Redis, the shared engine for
// many instances of an application: sessions, their per-user and
// per-provider-session indexes, refresh locks and one-time markers, all
// under one key prefix and all expiring by themselves.
//
// It talks to Redis with rueidis and serves Load from rueidis's
// server-assisted client-side cache (RESP3 CLIENT TRACKING): a session
// read on every request costs a local map lookup once the record is
// cached, and Redis tells the client the moment another writer changes
// it. See Store.Load for what that means for staleness.
//
// It needs Redis 6 or later (RESP3) on a single server, optionally with
// replicas or Sentinel. Redis Cluster is not supported: a write updates a
// session and its index keys atomically in one script, and those keys hash
// to different slots. Keep Redis's maxmemory-policy at noeviction (its
// default): an evicting policy would sign users out at random and break
// the indexes, where noeviction makes a full Redis refuse new sessions
// with an error.
//
// Keys, with the default prefix "sessionkit:":
//
//	sessionkit:s:<id>    hash: v (version), e (expiry, Unix ms), u (user ID),
//	                     p (provider session IDs, NUL-separated), d (data),
//	                     o (other user IDs, NUL-separated; absent if none)
//	sessionkit:u:<user>  sorted set of the IDs of the sessions the user is
//	                     signed in to (u or o), scored by expiry
//	sessionkit:p:<sid>   sorted set of a provider session's IDs, scored by expiry
//	sessionkit:l:<key>   a lock: the holder's random token
//	sessionkit:c:<key>   a one-time marker
//
// Every key expires with what it holds (PEXPIREAT for sessions and
// indexes, PX for locks and markers); index members that have expired are
// pruned whenever the index is written or listed.
package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
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

// New connects to the Redis server at url, such as
// "redis://127.0.0.1:6379/0", "rediss://user:password@host:6380/0" (TLS)
// or "unix:///run/redis.sock", and returns a Store using that connection.
// It returns when connected, or with an error when ctx is done first or a
// connection attempt exceeds cfg.Timeout. The Store owns the connection:
// Close it.
//
// All commands share one connection, pipelined: that is what lets the
// store see its own writes at once (see Load), and one pipelined
// connection carries tens of thousands of commands a second.
func New(ctx context.Context, url string, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("sessionkit: redisstore: invalid Redis URL: %w", urlError(err))
	}
	opt.ClientName = "sessionkit"
	opt.PipelineMultiplex = -1 // one connection: see Load
	opt.ForceSingleClient = opt.Sentinel.MasterSet == ""
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

// Save implements store.Store. ExpireAt is compared with the Redis
// server's clock and kept to the millisecond.
func (s *Store) Save(ctx context.Context, rec store.Record) (uint64, error) {
	if err := rec.Validate(); err != nil {
		return 0, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res := s.eval(ctx, saveScript, true, s.sessionKey(rec.ID),
		s.prefix, rec.ID,
		strconv.FormatUint(rec.Version, 10),
		strconv.FormatInt(rec.ExpireAt.UnixMilli(), 10),
		rec.UserID,
		strings.Join(rec.ProviderSessionIDs, "\x00"),
		string(rec.Data),
		strings.Join(rec.OtherUserIDs, "\x00"),
	)
	n, err := res.AsInt64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("sessionkit: redisstore: save: %w", err)
	case n == saveConflict:
		return 0, store.ErrConflict
	case n == saveNotFound:
		return 0, store.ErrNotFound
	case n <= 0:
		return 0, fmt.Errorf("sessionkit: redisstore: save: unexpected reply %d", n)
	}
	return uint64(n), nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if id == "" {
		return ctx.Err()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.eval(ctx, deleteScript, true, s.sessionKey(id), s.prefix, id).Error(); err != nil {
		return fmt.Errorf("sessionkit: redisstore: delete: %w", err)
	}
	return nil
}

// ListByUser implements store.Store.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]store.Record, error) {
	return s.list(ctx, "u", userID)
}

// ListByProviderSession implements store.Store.
func (s *Store) ListByProviderSession(ctx context.Context, sid string) ([]store.Record, error) {
	return s.list(ctx, "p", sid)
}

func (s *Store) list(ctx context.Context, index, key string) ([]store.Record, error) {
	if key == "" {
		return nil, ctx.Err()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := s.eval(ctx, listScript, false, s.prefix+index+":"+key, s.prefix, index, key).ToArray()
	if err != nil {
		return nil, fmt.Errorf("sessionkit: redisstore: list: %w", err)
	}
	n := 1 + len(fields) // id, then the fields
	if len(vals)%n != 0 {
		return nil, errors.New("sessionkit: redisstore: list: malformed reply")
	}
	recs := make([]store.Record, 0, len(vals)/n)
	for i := 0; i < len(vals); i += n {
		id, err := vals[i].ToString()
		if err != nil {
			return nil, fmt.Errorf("sessionkit: redisstore: list: %w", err)
		}
		rec, ok, err := parseRecord(id, vals[i+1:i+n], false)
		if err != nil {
			return nil, err
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	return recs, nil
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

// eval runs a script by its SHA1, or by its source if the server does not
// have it (a new or restarted server). The script's first key routes it.
//
// With fence, a PING follows the script on the connection. Redis sends a
// client the invalidations its own write caused after the write's reply;
// rueidis reads replies in order, so once the PING's reply is in, the
// cache no longer holds what the script changed.
func (s *Store) eval(ctx context.Context, sc *script, fence bool, key string, args ...string) rueidis.RedisResult {
	run := func(cmd rueidis.Completed) rueidis.RedisResult {
		if !fence {
			return s.c.Do(ctx, cmd)
		}
		return s.c.DoMulti(ctx, cmd, s.c.B().Ping().Build())[0]
	}
	res := run(s.c.B().Evalsha().Sha1(sc.sha).Numkeys(1).Key(key).Arg(args...).Build())
	if rerr, ok := rueidis.IsRedisErr(res.Error()); ok && rerr.IsNoScript() {
		res = run(s.c.B().Eval().Script(sc.src).Numkeys(1).Key(key).Arg(args...).Build())
	}
	return res
}

type script struct{ src, sha string }

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// The replies of saveScript that are not a version.
const (
	saveConflict = 0
	saveNotFound = -1
)

// luaLib is shared by the scripts that keep indexes. Index keys are built
// from the prefix inside the scripts (a record's previous user and
// provider sessions are known only there), which is why Redis Cluster is
// not supported. Times are the server's, in Unix milliseconds.
const luaLib = `
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function split(s)
  local r = {}
  if s then
    for x in string.gmatch(s, '[^%z]+') do r[#r + 1] = x end
  end
  return r
end
-- index adds id to the sorted set ikey with score exp (a string of
-- milliseconds), prunes what has expired, and makes ikey expire with its
-- last member.
local function index(ikey, id, exp)
  redis.call('ZADD', ikey, exp, id)
  redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now)
  local last = redis.call('ZRANGE', ikey, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', ikey, last[2]) end
end
`

// saveScript: KEYS[1] session key; ARGV prefix, id, expected version,
// expiry (ms), user ID, provider session IDs (NUL-separated), data, other
// user IDs (NUL-separated).
// Replies with the new version, saveConflict or saveNotFound.
var saveScript = newScript(luaLib + `
local key, prefix, id = KEYS[1], ARGV[1], ARGV[2]
local expected, exp = tonumber(ARGV[3]), ARGV[4]
local old = redis.call('HMGET', key, 'v', 'u', 'p', 'o')
local cur = tonumber(old[1]) or 0
if expected == 0 and cur ~= 0 then return 0 end
if expected ~= 0 and cur == 0 then return -1 end
if expected ~= cur then return 0 end
local version = cur + 1
if old[2] then redis.call('ZREM', prefix .. 'u:' .. old[2], id) end
for _, u in ipairs(split(old[4])) do redis.call('ZREM', prefix .. 'u:' .. u, id) end
for _, sid in ipairs(split(old[3])) do redis.call('ZREM', prefix .. 'p:' .. sid, id) end
if tonumber(exp) <= now then
  redis.call('DEL', key)
  return version
end
redis.call('HSET', key, 'v', version, 'e', exp, 'u', ARGV[5], 'p', ARGV[6], 'd', ARGV[7])
if ARGV[8] ~= '' then
  redis.call('HSET', key, 'o', ARGV[8])
else
  redis.call('HDEL', key, 'o')
end
redis.call('PEXPIREAT', key, exp)
index(prefix .. 'u:' .. ARGV[5], id, exp)
for _, u in ipairs(split(ARGV[8])) do index(prefix .. 'u:' .. u, id, exp) end
for _, sid in ipairs(split(ARGV[6])) do index(prefix .. 'p:' .. sid, id, exp) end
return version
`)

// deleteScript: KEYS[1] session key; ARGV prefix, id.
var deleteScript = newScript(`
local key, prefix, id = KEYS[1], ARGV[1], ARGV[2]
local old = redis.call('HMGET', key, 'u', 'p', 'o')
if old[1] then redis.call('ZREM', prefix .. 'u:' .. old[1], id) end
if old[2] then
  for sid in string.gmatch(old[2], '[^%z]+') do redis.call('ZREM', prefix .. 'p:' .. sid, id) end
end
if old[3] then
  for u in string.gmatch(old[3], '[^%z]+') do redis.call('ZREM', prefix .. 'u:' .. u, id) end
end
redis.call('DEL', key)
return 1
`)

// listScript: KEYS[1] index key; ARGV prefix, index kind ("u" or "p"),
// indexed value. Prunes expired and stray members, and replies with id, v,
// e, u, p, d, o of each live session, flattened.
var listScript = newScript(luaLib + `
local ikey, prefix, kind, value = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', ikey, 0, -1)) do
  local f = redis.call('HMGET', prefix .. 's:' .. id, 'v', 'e', 'u', 'p', 'd', 'o')
  local member = false
  if f[1] then
    if kind == 'u' then
      member = f[3] == value
      for _, u in ipairs(split(f[6])) do
        if u == value then member = true end
      end
    else
      for _, sid in ipairs(split(f[4])) do
        if sid == value then member = true end
      end
    end
  end
  if member then
    out[#out + 1] = id
    for i = 1, 6 do out[#out + 1] = f[i] end
  else
    redis.call('ZREM', ikey, id)
  end
end
return out
`)

// unlockScript: KEYS[1] lock key; ARGV token. Deletes the lock only if
// the token still holds it.
var unlockScript = newScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
