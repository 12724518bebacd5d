package redisstore_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/redisstore"
)

// TestManager runs the Manager against n Redis clients sharing one key
// prefix, as n instances of an application share one Redis, each with its
// own client-side cache.
func TestManager(t *testing.T) {
	redisURL(t)
	storetest.RunManager(t, func(t *testing.T, n int) []store.Store {
		prefix := testPrefix(t)
		out := make([]store.Store, n)
		for i := range out {
			out[i] = newStore(t, redisstore.Config{Prefix: prefix})
		}
		return out
	})
}
