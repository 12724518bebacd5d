package sessionkit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// downStore is a memstore whose Load fails while down is set, as a Redis
// that went away.
type downStore struct {
	*memstore.Store
	down atomic.Bool
}

func (s *downStore) Load(ctx context.Context, id string) (store.Record, error) {
	if s.down.Load() {
		return store.Record{}, errors.New("dial tcp 127.0.0.1:6379: connection refused")
	}
	return s.Store.Load(ctx, id)
}

func TestStoreUnavailableFailsClosed(t *testing.T) {
	backend := &downStore{Store: newMemStore(t)}
	keys := []byte(rand.Text() + rand.Text())
	m := newStoreManager(t, keys, backend)
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "/", nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}}); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "https://app.example/api", nil)
		r.Header.Set("Accept", "application/json")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}
	backend.down.Store(true)

	tests := []struct {
		name string
		h    http.Handler
		want int
	}{
		{"Middleware goes on without a session", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := sessionkit.FromContext(r.Context()); ok {
				t.Error("got a session while the store is down")
			}
		})), http.StatusOK},
		{"Require answers 503", m.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Error("Require let the request through")
		})), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req())
			if rec.Code != tt.want {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.want)
			}
		})
	}
	if _, err := m.GetServerSession(req()); !errors.Is(err, sessionkit.ErrStoreUnavailable) {
		t.Fatalf("GetServerSession: got %v, want ErrStoreUnavailable", err)
	}
	backend.down.Store(false)
	if _, err := m.GetServerSession(req()); err != nil {
		t.Fatalf("store back: got %v, want the session", err)
	}
}
