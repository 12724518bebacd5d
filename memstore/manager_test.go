package memstore_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/memstore"
)

func TestManager(t *testing.T) {
	storetest.RunManager(t, func(t *testing.T, n int) []store.Store {
		s, err := memstore.New(memstore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out := make([]store.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}
