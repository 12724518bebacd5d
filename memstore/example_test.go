package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

func Example() {
	store, err := memstore.New(memstore.Config{MaxSessions: 10_000})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()

	// Create a session record: version 0 means "create".
	rec := sessionkit.Record{
		ID:       "qsJ8w3Lm0KxV7nYt",
		UserID:   "user_42",
		ExpireAt: time.Now().Add(time.Hour),
		Data:     []byte("encoded session"),
	}
	rec.Version, err = store.Save(ctx, rec)
	fmt.Println("created version", rec.Version, err)

	// Two instances update the same version: the second loses.
	a, b := rec, rec
	a.Data = []byte("refreshed by A")
	b.Data = []byte("refreshed by B")
	_, err = store.Save(ctx, a)
	fmt.Println("A:", err)
	_, err = store.Save(ctx, b)
	fmt.Println("B conflict:", errors.Is(err, sessionkit.ErrConflict))

	got, _ := store.Load(ctx, rec.ID)
	fmt.Printf("loaded version %d: %s\n", got.Version, got.Data)

	// One refresh at a time: the second Lock fails at once.
	unlock, _ := store.Lock(ctx, "refresh:"+rec.ID, 10*time.Second)
	_, err = store.Lock(ctx, "refresh:"+rec.ID, 10*time.Second)
	fmt.Println("locked:", errors.Is(err, sessionkit.ErrLocked))
	_ = unlock(ctx)

	// A one-time token is accepted once.
	first, _ := store.Consume(ctx, "jti:4f1c", time.Hour)
	again, _ := store.Consume(ctx, "jti:4f1c", time.Hour)
	fmt.Println("first use:", first, "replay:", again)

	// Sign the user out everywhere.
	recs, _ := store.ListByUser(ctx, "user_42")
	for _, r := range recs {
		_ = store.Delete(ctx, r.ID)
	}
	_, err = store.Load(ctx, rec.ID)
	fmt.Println("after sign-out:", errors.Is(err, sessionkit.ErrNotFound))
	// Output:
	// created version 1 <nil>
	// A: <nil>
	// B conflict: true
	// loaded version 2: refreshed by A
	// locked: true
	// first use: true replay: false
	// after sign-out: true
}
