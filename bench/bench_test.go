package bench

import (
	"net/http"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/cputime"
)

// verifyEventually runs p once, retrying for a few seconds while it fails:
// sessionkit fetches its JWK Set in the background after New, so its first
// bearer requests may come before the keys.
func verifyEventually(p *peer) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.verify()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPeersDecode checks that every contender really decodes the session
// (its handler reads every field back), so no benchmark measures a no-op.
func TestPeersDecode(t *testing.T) {
	for _, p := range peers(t) {
		t.Run(p.name, func(t *testing.T) {
			if err := verifyEventually(p); err != nil {
				t.Fatal(err)
			}
			// And again: what a benchmark iteration does.
			if err := p.verify(); err != nil {
				t.Fatalf("second request: %v", err)
			}
		})
	}
}

// BenchmarkPeers measures one request through ServeHTTP for every
// contender, on the same session data and tokens, with a handler that reads
// the session (the verify_only cases check a signature and nothing else).
// Every request is a fresh shallow copy of the peer's request, as net/http
// gives each request its own *http.Request (gorilla/sessions stores its
// registry in it); the copy is one allocation in every case, bare included.
// Every case also reports the process's CPU time per request (cpu-ns/op):
// other processes on a shared machine inflate wall time (sec/op) far more
// than CPU time. Cookie peers also report the size of their Cookie header (cookie-B), of
// the cookie values alone (value-B), and how many cookies it holds.
func BenchmarkPeers(b *testing.B) {
	for _, p := range peers(b) {
		b.Run(p.name, func(b *testing.B) {
			if err := verifyEventually(p); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			c0 := cputime.Process()
			if p.op != nil {
				for b.Loop() {
					if err := p.op(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					p.serveOnce(w)
				}
			}
			cputime.ReportPerOp(b, c0)
			if p.op != nil {
				return
			}
			if n, header, values := cookieSize(p.req); n > 0 {
				b.ReportMetric(float64(header), "cookie-B")
				b.ReportMetric(float64(values), "value-B")
				b.ReportMetric(float64(n), "cookies")
			}
		})
	}
}

// cookieSize returns how many cookies r carries, the length of its Cookie
// header and the length of the cookie values alone.
func cookieSize(r *http.Request) (n, header, values int) {
	for _, line := range r.Header["Cookie"] {
		header += len(line)
	}
	for _, c := range r.Cookies() {
		n++
		values += len(c.Value)
	}
	return n, header, values
}
