package sessionkit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// A caller that only reads tells the Store so with WithSharedLoad, naming
// that Store: memstore then returns its own immutable copy of the record
// instead of a new one. Any other caller gets a copy of its own, which it
// may change.
func ExampleSharedLoad() {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()
	rec := sessionkit.Record{ID: "s1", UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: []byte("data")}
	if _, err := store.Save(ctx, rec); err != nil {
		panic(err)
	}

	readOnly := sessionkit.WithSharedLoad(ctx, store)
	shared, err := store.Load(readOnly, "s1") // must not be changed
	if err != nil {
		panic(err)
	}
	fmt.Println(sessionkit.SharedLoad(readOnly, store), string(shared.Data))

	own, err := store.Load(ctx, "s1")
	if err != nil {
		panic(err)
	}
	own.Data[0] = 'D' // the caller's own copy
	again, _ := store.Load(ctx, "s1")
	fmt.Println(sessionkit.SharedLoad(ctx, store), string(again.Data))
	// Output:
	// true data
	// false data
}
