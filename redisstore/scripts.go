package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/rueidis"
)

// eval runs a script on one key by its SHA1, or by its source if the
// server does not have it (a new or restarted server, another node of a
// cluster). The key routes the script.
//
// With fence, a PTTL of the same key follows the script on the
// connection. Redis sends a client the invalidations its own write caused
// after the write's reply; rueidis reads replies in order, so once the
// PTTL's reply is in, the cache no longer holds what the script changed.
// Being keyed, the PTTL goes to the script's node on a cluster too.
func (s *Store) eval(ctx context.Context, sc *script, fence bool, key string, args ...string) rueidis.RedisResult {
	run := func(cmd rueidis.Completed) rueidis.RedisResult {
		if !fence {
			return s.c.Do(ctx, cmd)
		}
		return s.c.DoMulti(ctx, cmd, s.c.B().Pttl().Key(key).Build())[0]
	}
	res := run(s.c.B().Evalsha().Sha1(sc.sha).Numkeys(1).Key(key).Arg(args...).Build())
	if noScript(res) {
		res = run(s.c.B().Eval().Script(sc.src).Numkeys(1).Key(key).Arg(args...).Build())
	}
	return res
}

// call is one run of a script: its key and arguments.
type call struct {
	key  string
	args []string
}

// evalEach runs sc once for each call, in one pipeline spread over the
// nodes that hold the keys, and returns the results in order.
func (s *Store) evalEach(ctx context.Context, sc *script, calls []call) []rueidis.RedisResult {
	cmds := make(rueidis.Commands, len(calls))
	for i, c := range calls {
		cmds[i] = s.c.B().Evalsha().Sha1(sc.sha).Numkeys(1).Key(c.key).Arg(c.args...).Build()
	}
	res := s.c.DoMulti(ctx, cmds...)
	var again []int
	for i := range res {
		if noScript(res[i]) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return res
	}
	cmds = cmds[:0]
	for _, i := range again {
		cmds = append(cmds, s.c.B().Eval().Script(sc.src).Numkeys(1).Key(calls[i].key).Arg(calls[i].args...).Build())
	}
	for j, r := range s.c.DoMulti(ctx, cmds...) {
		res[again[j]] = r
	}
	return res
}

func noScript(res rueidis.RedisResult) bool {
	rerr, ok := rueidis.IsRedisErr(res.Error())
	return ok && rerr.IsNoScript()
}

type script struct{ src, sha string }

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// Each script reads and writes only its one declared key, KEYS[1], so it
// runs on one node of a cluster. Times are the server's, in Unix
// milliseconds.
const luaNow = `
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// saveScript: KEYS[1] session key; ARGV expected version, expiry (ms),
// user ID, provider session IDs (NUL-separated), data, other user IDs
// (NUL-separated). Replies with the new version, saveConflict or
// saveNotFound, then the record's previous u, p and o fields.
var saveScript = newScript(luaNow + `
local key, expected, exp = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local old = redis.call('HMGET', key, 'v', 'u', 'p', 'o')
local cur = tonumber(old[1]) or 0
local reply = {0, old[2], old[3], old[4]}
if expected == 0 and cur ~= 0 then return reply end
if expected ~= 0 and cur == 0 then reply[1] = -1 return reply end
if expected ~= cur then return reply end
reply[1] = cur + 1
if tonumber(exp) <= now then
  redis.call('DEL', key)
  return reply
end
redis.call('HSET', key, 'v', reply[1], 'e', exp, 'u', ARGV[3], 'p', ARGV[4], 'd', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('HSET', key, 'o', ARGV[6])
else
  redis.call('HDEL', key, 'o')
end
redis.call('PEXPIREAT', key, exp)
return reply
`)

// deleteScript: KEYS[1] session key. Deletes the record and replies like
// saveScript: 1, then its u, p and o fields.
var deleteScript = newScript(`
local old = redis.call('HMGET', KEYS[1], 'u', 'p', 'o')
redis.call('DEL', KEYS[1])
return {1, old[1], old[2], old[3]}
`)

// indexScript: KEYS[1] index key; ARGV session ID, expiry (ms). Adds the
// session with its expiry as score, never lowering the score it had;
// prunes what has expired; makes the index expire with its last member.
var indexScript = newScript(luaNow + `
local ikey = KEYS[1]
redis.call('ZADD', ikey, 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now)
local last = redis.call('ZRANGE', ikey, -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', ikey, last[2]) end
return 1
`)

// listScript: KEYS[1] index key. Prunes the members past their score and
// replies with the others.
var listScript = newScript(luaNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

// unlockScript: KEYS[1] lock key; ARGV token. Deletes the lock only if
// the token still holds it.
var unlockScript = newScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
