// Package loopback starts the HTTP servers the bench commands measure, on
// 127.0.0.1 only.
package loopback

import (
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Serve starts h on a free port of 127.0.0.1 (never on every interface, as
// httptest.NewServer may), with a bound on reading request headers.
func Serve(h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	s.Start()
	return s, nil
}
