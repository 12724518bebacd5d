package devoidc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a Provider listening on a TCP address.
type Server struct {
	*Provider
	srv  *http.Server
	done chan struct{}
}

// Listen starts a Provider on addr (for example "127.0.0.1:0" for any free
// loopback port) over plain HTTP; its issuer is http://<the bound address>.
// Close stops it.
func Listen(addr string, cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devoidc: %w", err)
	}
	p, err := New("http://"+ln.Addr().String(), cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		Provider: p,
		srv:      &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// URL is the server's issuer URL.
func (s *Server) URL() string { return s.Issuer() }

// Close stops the server and waits for its goroutine to end.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	return err
}
