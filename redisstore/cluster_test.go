package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/redisstore"
)

// TestClusterSpread checks that a store reached through a URL listing the
// cluster's nodes separated by commas spreads its sessions over the
// masters, and lists and deletes them from there.
func TestClusterSpread(t *testing.T) {
	clusterURL := topologyURL(t, topologies[1])
	u, err := url.Parse(clusterURL)
	if err != nil {
		t.Fatal(err)
	}
	hosts := append([]string{u.Host}, u.Query()["addr"]...)
	commas := "redis://" + strings.Join(hosts, ",")
	prefix := testPrefixAt(t, clusterURL)
	s := newStoreAt(t, commas, redisstore.Config{Prefix: prefix})
	ctx := t.Context()
	const n = 30
	for i := range n {
		rec := store.Record{ID: fmt.Sprint("spread-", i), UserID: "u", ProviderSessionIDs: []string{"sid"}, ExpireAt: time.Now().Add(time.Hour)}
		if _, err := s.Save(ctx, rec); err != nil {
			t.Fatalf("Save: got error %v, want none", err)
		}
	}
	c := rawClientAt(t, clusterURL)
	withKeys := 0
	for addr, node := range c.Nodes() {
		keys := scanKeys(t, ctx, node, prefix+"s:*")
		t.Logf("node %s holds %d sessions", addr, len(keys))
		if len(keys) > 0 {
			withKeys++
		}
	}
	if withKeys < 2 {
		t.Errorf("got sessions on %d nodes, want them spread over at least 2", withKeys)
	}
	for _, list := range []func() ([]store.Record, error){
		func() ([]store.Record, error) { return s.ListByUser(ctx, "u") },
		func() ([]store.Record, error) { return s.ListByProviderSession(ctx, "sid") },
	} {
		if recs, err := list(); err != nil || len(recs) != n {
			t.Errorf("listing: got (%d records, %v), want (%d, nil)", len(recs), err, n)
		}
	}
	for i := range n {
		if err := s.Delete(ctx, fmt.Sprint("spread-", i)); err != nil {
			t.Fatalf("Delete: got error %v, want none", err)
		}
	}
	if recs, err := s.ListByUser(ctx, "u"); err != nil || len(recs) != 0 {
		t.Errorf("ListByUser after Delete: got (%d records, %v), want none", len(recs), err)
	}
}

// TestIndexRaces moves sessions between two users and two provider
// sessions from several Stores at once while others list (and prune) the
// indexes, then checks that each index lists exactly the sessions that
// name it: the indexes live apart from the records on a cluster, and a
// removal racing a write must not drop a live member.
func TestIndexRaces(t *testing.T) {
	forEachTopology(t, func(t *testing.T, url string) {
		prefix := testPrefixAt(t, url)
		stores := make([]*redisstore.Store, 3)
		for i := range stores {
			stores[i] = newStoreAt(t, url, redisstore.Config{Prefix: prefix})
		}
		ctx := t.Context()
		const sessions, moves = 4, 40
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range sessions * len(stores) {
			wg.Go(func() { errs <- mover(ctx, stores[i%len(stores)], fmt.Sprint("race-", i%sessions), i, moves) })
		}
		stop := make(chan struct{})
		var listers sync.WaitGroup
		for _, s := range stores {
			listers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.ListByUser(ctx, "a"); err != nil {
						errs <- err
						return
					}
					if _, err := s.ListByProviderSession(ctx, "sid-b"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		listers.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
		}
		checkIndexes(t, stores[0], sessions)
	})
}

// mover saves session id moves times, alternating its user and provider
// session between "a" and "b", retrying each move on a conflict.
func mover(ctx context.Context, s *redisstore.Store, id string, seed, moves int) error {
	for m := range moves {
		side := []string{"a", "b"}[(seed+m)%2]
		for {
			rec, err := s.Load(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				rec = store.Record{ID: id}
			} else if err != nil {
				return err
			}
			rec.UserID, rec.ProviderSessionIDs = side, []string{"sid-" + side}
			rec.ExpireAt = time.Now().Add(time.Hour)
			_, err = s.Save(ctx, rec)
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// checkIndexes checks that the users' and provider sessions' listings
// hold exactly the sessions that name them.
func checkIndexes(t *testing.T, s *redisstore.Store, sessions int) {
	t.Helper()
	ctx := t.Context()
	want := map[string][]string{}
	for i := range sessions {
		rec, err := s.Load(ctx, fmt.Sprint("race-", i))
		if err != nil {
			t.Fatalf("Load: got error %v, want none", err)
		}
		want[rec.UserID] = append(want[rec.UserID], rec.ID)
	}
	for _, side := range []string{"a", "b"} {
		byUser, err1 := s.ListByUser(ctx, side)
		bySID, err2 := s.ListByProviderSession(ctx, "sid-"+side)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if got, w := idSet(byUser), fmt.Sprint(want[side]); got != w {
			t.Errorf("ListByUser(%s): got %s, want %s", side, got, w)
		}
		if got, w := idSet(bySID), fmt.Sprint(want[side]); got != w {
			t.Errorf("ListByProviderSession(sid-%s): got %s, want %s", side, got, w)
		}
	}
}

// idSet returns the sorted IDs of recs, printed.
func idSet(recs []store.Record) string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return fmt.Sprint(ids)
}
