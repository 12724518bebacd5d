package memstore_test

import (
	"testing"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/memstore"
)

func TestManager(t *testing.T) {
	storetest.RunManager(t, func(t *testing.T, n int) []sessionkit.Store {
		s, err := memstore.New(memstore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out := make([]sessionkit.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}
