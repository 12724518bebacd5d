package redisstore_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/redisstore"
)

// BenchmarkStoreMiddleware compares, in one run, the per-request cost of
// a session behind Middleware: a stateless cookie (the verified-credential
// cache on), a store-backed cookie on memstore, and on Redis with and
// without rueidis's client-side cache. The Redis cases need
// SESSIONKIT_REDIS_URL; without it they are skipped.
//
//	go test -run '^$' -bench StoreMiddleware -benchmem -count 6 ./redisstore | benchstat -
func BenchmarkStoreMiddleware(b *testing.B) {
	redis := func(cfg redisstore.Config) func(b *testing.B) store.Store {
		return func(b *testing.B) store.Store { return newStore(b, cfg) }
	}
	storetest.BenchMiddleware(b, []storetest.BenchStore{
		{Name: "stateless_cached", New: func(*testing.B) store.Store { return nil }},
		{Name: "memstore", New: func(b *testing.B) store.Store {
			s, err := memstore.New(memstore.Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{Name: "redis", New: redis(redisstore.Config{})},
		{Name: "redis_nocache", New: redis(redisstore.Config{DisableCache: true})},
	})
}
