// Command demo is a small web app on sessionkit: sign in as a demo user,
// see the session on a server-rendered page, call a protected JSON API,
// sign out. It needs no setup:
//
//	go run ./examples/demo
//
// then open http://127.0.0.1:8080. SESSIONKIT_ADDR moves the address;
// SESSIONKIT_SECRET (at least 32 bytes) keys the cookies, otherwise an
// ephemeral key is generated and sessions end when the demo stops.
//
// The sign-in here is a stand-in that trusts the form: it is for trying
// the library, not for production.
package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sessionkit/sessionkit"
)

var users = map[string]sessionkit.User{
	"ada":   {ID: "user_ada", Name: "Ada Lovelace", Email: "ada@example.com", EmailVerified: true},
	"grace": {ID: "user_grace", Name: "Grace Hopper", Email: "grace@example.com", EmailVerified: true},
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger); err != nil {
		logger.Error("demo stopped", "error", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	addr := envOr("SESSIONKIT_ADDR", "127.0.0.1:8080")
	secret := os.Getenv("SESSIONKIT_SECRET")
	if secret == "" {
		secret = rand.Text() + rand.Text()
		logger.Warn("SESSIONKIT_SECRET is not set: using an ephemeral key; sessions end when the demo stops")
	}
	keys, err := sessionkit.KeyPairFromSecret(secret)
	if err != nil {
		return err
	}
	// The demo serves plain HTTP. Chrome, Firefox and curl keep Secure
	// cookies from a loopback host, Safari does not: on loopback, drop
	// Secure so the demo works in every browser. Real deployments keep the
	// default (Secure, __Host- prefix) and serve HTTPS.
	insecure := isLoopbackAddr(addr)
	if insecure {
		logger.Warn("development mode: session cookies without Secure, for plain HTTP on loopback")
	}
	m, err := sessionkit.New(sessionkit.Config{
		Keys:            []sessionkit.KeyPair{keys},
		InsecureCookies: insecure,
		Lifetime:        24 * time.Hour,
		IdleTimeout:     time.Hour,
		SignInURL:       "/signin",
		Logger:          logger,
		Callbacks: sessionkit.Callbacks{
			OnSignIn:  func(ctx contextT, s *sessionkit.Session) { logger.InfoContext(ctx, "signed in", "user", s.User.ID) },
			OnSignOut: func(ctx contextT, s *sessionkit.Session) { logger.InfoContext(ctx, "signed out") },
			OnSessionExpired: func(ctx contextT, s *sessionkit.Session) {
				logger.InfoContext(ctx, "session expired", "user", s.User.ID)
			},
		},
	})
	if err != nil {
		return err
	}
	defer m.Close()

	handler := newHandler(m)
	srv := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("demo listening", "url", "http://"+addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler is the demo's whole HTTP surface.
func newHandler(m *sessionkit.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		render(w, homePage, s)
	})
	mux.HandleFunc("GET /signin", func(w http.ResponseWriter, r *http.Request) {
		render(w, signInPage, r.URL.Query().Get("callbackUrl"))
	})
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.FormValue("user")]
		if !ok {
			http.Error(w, "unknown demo user", http.StatusBadRequest)
			return
		}
		if _, err := m.SignIn(w, r, sessionkit.SignInParams{User: &u, Provider: "demo"}); err != nil {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, localPath(r.FormValue("callbackUrl")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /signout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.SignOut(w, r); err != nil {
			http.Error(w, "sign-out failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /protected", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		render(w, protectedPage, s)
	})))
	mux.Handle("GET /api/me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})))

	// Cross-origin POSTs (login CSRF, sign-out CSRF) are refused.
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux))
}

// localPath keeps a redirect target on this site: a path, not "//host" or
// "/\host".
func localPath(p string) string {
	if len(p) == 0 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return "/"
	}
	return p
}

// isLoopbackAddr reports whether a listen address is on a loopback host.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
	}
}
