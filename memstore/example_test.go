package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/store"
)

func Example() {
	ms, err := memstore.New(memstore.Config{MaxSessions: 10_000})
	if err != nil {
		panic(err)
	}
	defer ms.Close()
	ctx := context.Background()

	// Create a session record: version 0 means "create".
	rec := store.Record{
		ID:       "qsJ8w3Lm0KxV7nYt",
		UserID:   "user_42",
		ExpireAt: time.Now().Add(time.Hour),
		Data:     []byte("encoded session"),
	}
	rec.Version, err = ms.Save(ctx, rec)
	fmt.Println("created version", rec.Version, err)

	// Two instances update the same version: the second loses.
	a, b := rec, rec
	a.Data = []byte("refreshed by A")
	b.Data = []byte("refreshed by B")
	_, err = ms.Save(ctx, a)
	fmt.Println("A:", err)
	_, err = ms.Save(ctx, b)
	fmt.Println("B conflict:", errors.Is(err, store.ErrConflict))

	got, _ := ms.Load(ctx, rec.ID)
	fmt.Printf("loaded version %d: %s\n", got.Version, got.Data)

	// One refresh at a time: the second Lock fails at once.
	unlock, _ := ms.Lock(ctx, "refresh:"+rec.ID, 10*time.Second)
	_, err = ms.Lock(ctx, "refresh:"+rec.ID, 10*time.Second)
	fmt.Println("locked:", errors.Is(err, store.ErrLocked))
	_ = unlock(ctx)

	// A one-time token is accepted once.
	first, _ := ms.Consume(ctx, "jti:4f1c", time.Hour)
	again, _ := ms.Consume(ctx, "jti:4f1c", time.Hour)
	fmt.Println("first use:", first, "replay:", again)

	// Sign the user out everywhere.
	recs, _ := ms.ListByUser(ctx, "user_42")
	for _, r := range recs {
		_ = ms.Delete(ctx, r.ID)
	}
	_, err = ms.Load(ctx, rec.ID)
	fmt.Println("after sign-out:", errors.Is(err, store.ErrNotFound))
	// Output:
	// created version 1 <nil>
	// A: <nil>
	// B conflict: true
	// loaded version 2: refreshed by A
	// locked: true
	// first use: true replay: false
	// after sign-out: true
}
