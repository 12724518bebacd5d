package sessionkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
)

// inprocTransport answers every outgoing request of a Manager in process,
// so that fuzz targets and fault tests can serve arbitrary bytes as a
// provider's response without opening a socket, and a fuzzed URL can never
// reach the network.
type inprocTransport struct {
	mu     sync.Mutex
	routes map[string]func(*http.Request) *http.Response // by URL path
}

func newInprocTransport() *inprocTransport {
	return &inprocTransport{routes: map[string]func(*http.Request) *http.Response{}}
}

// handle sets what path answers.
func (t *inprocTransport) handle(path string, f func(*http.Request) *http.Response) {
	t.mu.Lock()
	t.routes[path] = f
	t.mu.Unlock()
}

// serve sets a fixed answer for path.
func (t *inprocTransport) serve(path string, status int, contentType string, body []byte) {
	t.handle(path, func(*http.Request) *http.Response { return response(status, contentType, body) })
}

func (t *inprocTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.mu.Lock()
	f := t.routes[r.URL.Path]
	t.mu.Unlock()
	if f == nil {
		return response(http.StatusNotFound, "text/plain", []byte("not found")), nil
	}
	resp := f(r)
	resp.Request = r
	return resp, nil
}

func (t *inprocTransport) client() *http.Client { return &http.Client{Transport: t} }

// response builds a response as a server would send it.
func response(status int, contentType string, body []byte) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// jwksBody is the JSON of a JWK Set holding the public keys of signers.
func jwksBody(signers ...signer) []byte {
	keys := []map[string]any{}
	for _, s := range signers {
		keys = append(keys, s.JWK())
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// discardLogger drops every log line (fuzz targets log on each failure).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
