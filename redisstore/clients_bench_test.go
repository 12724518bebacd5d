package redisstore

// A measurement, not a test of the store: the cost of the per-request
// session read (HMGET of a record's five fields, a 2 KiB session) with
// go-redis v9 and with rueidis, without and with rueidis's client-side
// caching (RESP3 CLIENT TRACKING). Against the redis-server at
// $SESSIONKIT_REDIS_URL.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

const benchKeys = 1000

func benchSetup(b *testing.B) (url, prefix string) {
	url = os.Getenv("SESSIONKIT_REDIS_URL")
	if url == "" {
		b.Skip("SESSIONKIT_REDIS_URL is not set")
	}
	prefix = fmt.Sprintf("sessionkit-bench:%d:", time.Now().UnixNano())
	c := goredis.NewClient(mustParse(b, url))
	defer c.Close()
	ctx := context.Background()
	data := make([]byte, 2048)
	for i := range benchKeys {
		key := prefix + "s:" + strconv.Itoa(i)
		if err := c.HSet(ctx, key, "v", 1, "e", time.Now().Add(time.Hour).UnixMilli(), "u", "user", "p", "", "d", data).Err(); err != nil {
			b.Fatal(err)
		}
		c.Expire(ctx, key, time.Hour)
	}
	b.Cleanup(func() {
		c := goredis.NewClient(mustParse(b, url))
		defer c.Close()
		for i := range benchKeys {
			c.Del(context.Background(), prefix+"s:"+strconv.Itoa(i))
		}
	})
	return url, prefix
}

func mustParse(b *testing.B, url string) *goredis.Options {
	o, err := goredis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	o.ContextTimeoutEnabled = true
	return o
}

func keys(prefix string) []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = prefix + "s:" + strconv.Itoa(i)
	}
	return k
}

func BenchmarkClientLoad(b *testing.B) {
	url, prefix := benchSetup(b)
	ks := keys(prefix)
	fields := []string{"v", "e", "u", "p", "d"}
	ctx := context.Background()

	goredisLoad := func(b *testing.B) func(i int) {
		c := goredis.NewClient(mustParse(b, url))
		b.Cleanup(func() { c.Close() })
		return func(i int) {
			vals, err := c.HMGet(ctx, ks[i%benchKeys], fields...).Result()
			if err != nil || len(vals) != 5 || vals[4] == nil {
				b.Fatal(err)
			}
			_ = []byte(vals[4].(string))
		}
	}
	rueidisLoad := func(b *testing.B, cache bool) func(i int) {
		opt, err := rueidis.ParseURL(url)
		if err != nil {
			b.Fatal(err)
		}
		opt.DisableCache = !cache
		c, err := rueidis.NewClient(opt)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return func(i int) {
			var res rueidis.RedisResult
			if cache {
				res = c.DoCache(ctx, c.B().Hmget().Key(ks[i%benchKeys]).Field(fields...).Cache(), time.Minute)
			} else {
				res = c.Do(ctx, c.B().Hmget().Key(ks[i%benchKeys]).Field(fields...).Build())
			}
			vals, err := res.ToArray()
			if err != nil || len(vals) != 5 {
				b.Fatal(err)
			}
			d, err := vals[4].ToString()
			if err != nil {
				b.Fatal(err)
			}
			_ = []byte(d)
		}
	}
	clients := []struct {
		name string
		load func(b *testing.B) func(i int)
	}{
		{"go-redis", goredisLoad},
		{"rueidis", func(b *testing.B) func(int) { return rueidisLoad(b, false) }},
		{"rueidis-cache", func(b *testing.B) func(int) { return rueidisLoad(b, true) }},
	}
	for _, c := range clients {
		b.Run("client="+c.name+"/mode=serial", func(b *testing.B) {
			load := c.load(b)
			for i := range benchKeys { // warm connections (and the cache)
				load(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				load(i)
			}
		})
		b.Run("client="+c.name+"/mode=parallel", func(b *testing.B) {
			load := c.load(b)
			for i := range benchKeys {
				load(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.SetParallelism(8) // requests in flight, as on a busy server
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					load(i)
				}
			})
		})
	}
}
