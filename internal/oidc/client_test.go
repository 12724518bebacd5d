package oidc

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/observe"
	"golang.org/x/oauth2"
)

// formServer answers every POST with status and body, recording the form
// and the Basic credentials it was sent.
type formServer struct {
	*httptest.Server
	form       atomic.Pointer[url.Values]
	user, pass atomic.Pointer[string]
}

func newFormServer(t *testing.T, status int, body string) *formServer {
	t.Helper()
	fs := &formServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		fs.form.Store(&f)
		u, p, _ := r.BasicAuth()
		fs.user.Store(&u)
		fs.pass.Store(&p)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(fs.Close)
	return fs
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		style   oauth2.AuthStyle
		wantErr string
	}{
		{name: "basic", status: 200, style: oauth2.AuthStyleInHeader},
		{name: "form", status: 200, style: oauth2.AuthStyleInParams},
		{name: "refused", status: 503, wantErr: "answered 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFormServer(t, tt.status, `{}`)
			err := Revoke(context.Background(), fs.Client(), fs.URL+"/revoke?x=1", ClientAuth{ID: "app:1", Secret: "s&cret", Style: tt.style}, "rt-secret")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "rt-secret") {
					t.Fatalf("got %v, want an error with %q and without the token", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := *fs.form.Load()
			if f.Get("token") != "rt-secret" || f.Get("token_type_hint") != "refresh_token" {
				t.Errorf("form: got %v", f)
			}
			if tt.style == oauth2.AuthStyleInParams {
				if f.Get("client_id") != "app:1" || f.Get("client_secret") != "s&cret" {
					t.Errorf("form credentials: got %v", f)
				}
			} else if *fs.user.Load() != url.QueryEscape("app:1") || *fs.pass.Load() != url.QueryEscape("s&cret") {
				t.Errorf("basic credentials: got %q %q", *fs.user.Load(), *fs.pass.Load())
			}
		})
	}
}

func TestIntrospect(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantActive bool
		wantExp    time.Time
		wantErr    bool
	}{
		{name: "active", status: 200, body: `{"active":true,"sub":"u1","exp":1900000000,"scope":"a b"}`, wantActive: true, wantExp: time.Unix(1900000000, 0).UTC()},
		{name: "active without exp", status: 200, body: `{"active":true,"sub":"u1"}`, wantActive: true},
		{name: "inactive", status: 200, body: `{"active":false}`},
		{name: "active not a bool", status: 200, body: `{"active":"true"}`},
		{name: "malformed", status: 200, body: `{`, wantErr: true},
		{name: "unauthorized", status: 401, body: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFormServer(t, tt.status, tt.body)
			in, err := Introspect(context.Background(), fs.Client(), fs.URL, ClientAuth{ID: "app"}, "opaque")
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if in.Active != tt.wantActive || !in.Expiry.Equal(tt.wantExp) {
				t.Fatalf("got %+v, want active %v, expiry %v", in, tt.wantActive, tt.wantExp)
			}
			if in.Active && (in.Claims["sub"] != "u1" || in.Claims["active"] != nil) {
				t.Errorf("claims: got %v", in.Claims)
			}
			if f := *fs.form.Load(); f.Get("token") != "opaque" {
				t.Errorf("form: got %v", f)
			}
		})
	}
}

func TestEndSessionURL(t *testing.T) {
	e := EndSession{IDTokenHint: "idt", ClientID: "app", PostLogoutRedirectURI: "https://app.example/bye?x=1"}
	raw := e.URL("https://idp.example/logout?tenant=t1")
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Host != "idp.example" || u.Path != "/logout" || q.Get("tenant") != "t1" || q.Get("id_token_hint") != "idt" ||
		q.Get("client_id") != "app" || q.Get("post_logout_redirect_uri") != e.PostLogoutRedirectURI || len(q.Get("state")) < 16 {
		t.Fatalf("got %s", raw)
	}
	if got := e.URL(""); got != "" {
		t.Fatalf("without an endpoint: got %q, want none", got)
	}
	raw2 := EndSession{ClientID: "app"}.URL("https://idp.example/logout")
	if q2, _ := url.ParseQuery(strings.SplitN(raw2, "?", 2)[1]); q2.Has("id_token_hint") || q2.Get("state") == q.Get("state") {
		t.Fatalf("without a hint: got %s", raw2)
	}
}

func TestRevokerRunsInBackgroundAndCloseWaits(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		if r.PostFormValue("token") == "rt" {
			got.Add(1)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	rv := NewRevoker(srv.Client(), 5*time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	e := func(context.Context) (string, ClientAuth, error) { return srv.URL, ClientAuth{ID: "app"}, nil }
	start := time.Now()
	rv.Revoke("idp", e, "rt")
	rv.Revoke("idp", func(context.Context) (string, ClientAuth, error) { return "", ClientAuth{}, nil }, "rt") // no endpoint
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Revoke blocked for %s", d)
	}
	close(release)
	rv.Close()
	rv.Revoke("idp", e, "rt") // closed: nothing
	rv.Wait()
	if got.Load() != 1 {
		t.Fatalf("the provider got %d revocations, want 1", got.Load())
	}
	if out := logs.String(); !strings.Contains(out, "revoking a refresh token failed") || strings.Contains(out, "rt\"") || !strings.Contains(out, "provider=idp") {
		t.Fatalf("log: got %q", out)
	}
}

func TestRevokerBoundsTime(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-stop // past the client's time bound
	}))
	defer srv.Close()
	defer close(stop) // before srv.Close
	rv := NewRevoker(srv.Client(), 50*time.Millisecond, slog.New(slog.DiscardHandler))
	rv.Revoke("idp", func(context.Context) (string, ClientAuth, error) { return srv.URL, ClientAuth{}, nil }, "rt")
	done := make(chan struct{})
	go func() { rv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited past the revocation's time bound")
	}
}

// recordCalls is a RoundTripper that records the purpose of each request.
type recordCalls struct {
	base  http.RoundTripper
	calls []observe.Call
}

func (r *recordCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	r.calls = append(r.calls, observe.CallOf(req.Context()))
	return r.base.RoundTrip(req)
}

func TestRevokeAndIntrospectMarkTheirCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"active":false}`))
	}))
	defer srv.Close()
	rec := &recordCalls{base: srv.Client().Transport}
	client := &http.Client{Transport: rec}
	_ = Revoke(context.Background(), client, srv.URL, ClientAuth{ID: "app"}, "rt")
	_, _ = Introspect(context.Background(), client, srv.URL, ClientAuth{ID: "app"}, "at")
	if want := []observe.Call{observe.CallRevocation, observe.CallIntrospection}; !slices.Equal(rec.calls, want) {
		t.Fatalf("calls: got %v, want %v", rec.calls, want)
	}
}
