package redisstore_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/redisstore"
)

// TestManager runs the Manager against n Redis clients sharing one key
// prefix, as n instances of an application share one Redis, each with its
// own client-side cache: on each topology.
func TestManager(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		storetest.RunManager(t, func(t *testing.T, n int) []store.Store {
			prefix := testPrefixAt(t, url)
			out := make([]store.Store, n)
			for i := range out {
				out[i] = newStoreAt(t, url, redisstore.Config{Prefix: prefix})
			}
			return out
		})
	})
}
