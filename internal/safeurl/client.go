package safeurl

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxBody bounds what a Client reads of a response body.
const MaxBody = 1 << 20

// ErrBodyTooLarge is the error of reading a response body past MaxBody.
var ErrBodyTooLarge = errors.New("sessionkit: response body exceeds 1 MiB")

// Client returns a copy of c (or a new client with timeout) whose response
// bodies are cut off with ErrBodyTooLarge past MaxBody bytes, and which
// follows redirects by safeRedirect unless c sets its own policy.
func Client(c *http.Client, timeout time.Duration) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = timeout
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = limitTransport{base: base}
	if out.CheckRedirect == nil {
		out.CheckRedirect = safeRedirect
	}
	return &out
}

// safeRedirect is the redirect policy of a Client whose base sets none: a
// request that carries a body (a token request, with a refresh token or a
// code and the client secret) is never re-sent elsewhere, and a GET
// (discovery, JWK Sets) follows at most three redirects, each to a URL
// that Check accepts (https, or http on loopback).
func safeRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > 0 && via[0].Method != http.MethodGet {
		return fmt.Errorf("sessionkit: refusing to follow a redirect of a %s request", via[0].Method)
	}
	if len(via) >= 3 {
		return errors.New("sessionkit: stopped after 3 redirects")
	}
	if err := Check(req.URL.String()); err != nil {
		return fmt.Errorf("sessionkit: refusing a redirect: %w", err)
	}
	return nil
}

// limitTransport cuts off the response bodies of base past MaxBody.
type limitTransport struct{ base http.RoundTripper }

// RoundTrip sends req with base and limits the response body.
func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxBody}
	return resp, nil
}

// limitedBody is a response body that fails past its limit.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
