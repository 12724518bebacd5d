package store_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/store"
)

// A caller that only reads tells the Store so with WithSharedLoad, naming
// that Store: memstore then returns its own immutable copy of the record
// instead of a new one. Any other caller gets a copy of its own, which it
// may change.
func ExampleSharedLoad() {
	ms, err := memstore.New(memstore.Config{})
	if err != nil {
		panic(err)
	}
	defer ms.Close()
	ctx := context.Background()
	rec := store.Record{ID: "s1", UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: []byte("data")}
	if _, err := ms.Save(ctx, rec); err != nil {
		panic(err)
	}

	readOnly := store.WithSharedLoad(ctx, ms)
	shared, err := ms.Load(readOnly, "s1") // must not be changed
	if err != nil {
		panic(err)
	}
	fmt.Println(store.SharedLoad(readOnly, ms), string(shared.Data))

	own, err := ms.Load(ctx, "s1")
	if err != nil {
		panic(err)
	}
	own.Data[0] = 'D' // the caller's own copy
	again, _ := ms.Load(ctx, "s1")
	fmt.Println(store.SharedLoad(ctx, ms), string(again.Data))
	// Output:
	// true data
	// false data
}
