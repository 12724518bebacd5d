package observe_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/observe"
)

// An Observer needs no telemetry library: this one counts reads by outcome
// and sign-ins in atomics, as a server might expose on a status page.
func ExampleObserver() {
	var reads [observe.Outcomes]atomic.Int64
	var signIns atomic.Int64
	m, err := sessionkit.New(sessionkit.Config{
		Keys:            [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, // use 32 random bytes
		InsecureCookies: true,                                                 // plain http on localhost
		Logger:          slog.New(slog.DiscardHandler),
		Observer: &observe.Observer{
			Read: func(_ context.Context, e observe.Read) { reads[e.Outcome].Add(1) },
			Event: func(_ context.Context, e observe.Event) {
				if e == observe.EventSignIn {
					signIns.Add(1)
				}
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "/", nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "user_1"}}); err != nil {
		fmt.Println(err)
		return
	}
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	signedIn := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range rec.Result().Cookies() {
		signedIn.AddCookie(c)
	}
	h.ServeHTTP(httptest.NewRecorder(), signedIn)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))

	for o := range observe.Outcome(observe.Outcomes) {
		if n := reads[o].Load(); n > 0 {
			fmt.Printf("reads %s: %d\n", o, n)
		}
	}
	fmt.Println("sign-ins:", signIns.Load())
	// Output:
	// reads none: 1
	// reads active: 1
	// sign-ins: 1
}
