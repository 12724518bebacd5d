package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit/internal/storetest"
	"github.com/sessionkit/sessionkit/internal/testclock"
	"github.com/sessionkit/sessionkit/memstore"
)

// newFakeClock returns a clock that moves only when told to.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func newStore(t testing.TB, cfg memstore.Config) *memstore.Store {
	t.Helper()
	s, err := memstore.New(cfg)
	if err != nil {
		t.Fatalf("New: got error %v, want none", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Run("fake clock", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			c := newFakeClock()
			return storetest.Harness{Store: newStore(t, memstore.Config{Now: c.Now}), Now: c.Now, Advance: c.Advance, Full: true}
		})
	})
	t.Run("real clock", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			return storetest.Harness{Store: newStore(t, memstore.Config{}), Full: true}
		})
	})
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     memstore.Config
		wantErr bool
	}{
		{"zero", memstore.Config{}, false},
		{"set", memstore.Config{MaxSessions: 10, SweepInterval: time.Second, Now: time.Now}, false},
		{"negative MaxSessions", memstore.Config{MaxSessions: -1}, true},
		{"negative SweepInterval", memstore.Config{SweepInterval: -time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := memstore.New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if s != nil {
				s.Close()
			}
		})
	}
}

func TestFull(t *testing.T) {
	const max = 3
	rec := func(c *testclock.Clock, id string, ttl time.Duration) store.Record {
		return store.Record{ID: id, UserID: "u", ExpireAt: c.Now().Add(ttl), Data: []byte(id)}
	}
	tests := []struct {
		name string
		// fill takes the last free place, then tries one more.
		fill func(ctx context.Context, s *memstore.Store, c *testclock.Clock, i int) error
		// free makes room again, if it can.
		free func(ctx context.Context, s *memstore.Store, c *testclock.Clock) error
	}{
		{
			name: "sessions, freed by Delete",
			fill: func(ctx context.Context, s *memstore.Store, c *testclock.Clock, i int) error {
				_, err := s.Save(ctx, rec(c, fmt.Sprint("s", i), time.Hour))
				return err
			},
			free: func(ctx context.Context, s *memstore.Store, c *testclock.Clock) error { return s.Delete(ctx, "s0") },
		},
		{
			name: "sessions, freed by expiry",
			fill: func(ctx context.Context, s *memstore.Store, c *testclock.Clock, i int) error {
				ttl := time.Hour
				if i == 0 {
					ttl = time.Minute
				}
				_, err := s.Save(ctx, rec(c, fmt.Sprint("s", i), ttl))
				return err
			},
			free: func(ctx context.Context, s *memstore.Store, c *testclock.Clock) error {
				c.Advance(2 * time.Minute) // no sweep runs: the full backend reclaims s0 itself
				return nil
			},
		},
		{
			name: "locks, freed by expiry",
			fill: func(ctx context.Context, s *memstore.Store, c *testclock.Clock, i int) error {
				_, err := s.Lock(ctx, fmt.Sprint("l", i), time.Hour)
				return err
			},
			free: func(ctx context.Context, s *memstore.Store, c *testclock.Clock) error {
				c.Advance(2 * time.Hour)
				return nil
			},
		},
		{
			name: "markers, freed by expiry",
			fill: func(ctx context.Context, s *memstore.Store, c *testclock.Clock, i int) error {
				first, err := s.Consume(ctx, fmt.Sprint("m", i), time.Hour)
				if err == nil && !first {
					return errors.New("not first")
				}
				return err
			},
			free: func(ctx context.Context, s *memstore.Store, c *testclock.Clock) error {
				c.Advance(2 * time.Hour)
				return nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			c := newFakeClock()
			s := newStore(t, memstore.Config{MaxSessions: max, Now: c.Now})
			for i := range max {
				if err := tt.fill(ctx, s, c, i); err != nil {
					t.Fatalf("entry %d of %d: got error %v, want none", i+1, max, err)
				}
			}
			if err := tt.fill(ctx, s, c, max); !errors.Is(err, memstore.ErrFull) {
				t.Fatalf("entry %d of %d: got error %v, want ErrFull", max+1, max, err)
			}
			if err := tt.free(ctx, s, c); err != nil {
				t.Fatal(err)
			}
			if err := tt.fill(ctx, s, c, max+1); err != nil {
				t.Fatalf("after making room: got error %v, want none", err)
			}
		})
	}
}

func TestFullStillUpdates(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, memstore.Config{MaxSessions: 1})
	rec := store.Record{ID: "a", UserID: "u", ExpireAt: time.Now().Add(time.Hour)}
	v, err := s.Save(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, store.Record{ID: "b", UserID: "u", ExpireAt: time.Now().Add(time.Hour)}); !errors.Is(err, memstore.ErrFull) {
		t.Fatalf("create in a full store: got error %v, want ErrFull", err)
	}
	rec.Version = v
	rec.Data = []byte("updated")
	if _, err := s.Save(ctx, rec); err != nil {
		t.Fatalf("update in a full store: got error %v, want none", err)
	}
}

func TestSweep(t *testing.T) {
	ctx := t.Context()
	c := newFakeClock()
	s := newStore(t, memstore.Config{Now: c.Now, SweepInterval: time.Millisecond})
	const n = 1000 // several sweep batches
	for i := range n {
		ttl := time.Minute
		if i%10 == 0 {
			ttl = time.Hour
		}
		rec := store.Record{ID: fmt.Sprint(i), UserID: fmt.Sprint("u", i%7), ProviderSessionIDs: []string{"sid"}, ExpireAt: c.Now().Add(ttl)}
		if _, err := s.Save(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != n {
		t.Fatalf("before expiry: got Len %d, want %d", got, n)
	}
	c.Advance(2 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != n/10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.Len(); got != n/10 {
		t.Fatalf("after the sweep: got Len %d, want %d", got, n/10)
	}
	recs, err := s.ListByProviderSession(ctx, "sid")
	if err != nil || len(recs) != n/10 {
		t.Errorf("ListByProviderSession: got (%d records, %v), want (%d, nil)", len(recs), err, n/10)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: got error %v, want none", i+1, err)
		}
	}
	// Still usable after Close.
	if _, err := s.Save(t.Context(), store.Record{ID: "a", UserID: "u", ExpireAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Save after Close: got error %v, want none", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	s := newStore(b, memstore.Config{})
	ctx := context.Background()
	data := make([]byte, 2048) // a session with OAuth tokens
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprint("session-", i)
		rec := store.Record{ID: ids[i], UserID: "u", ExpireAt: time.Now().Add(time.Hour), Data: data}
		if _, err := s.Save(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Load(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
