package sessionkit

import (
	"testing"

	"github.com/sessionkit/sessionkit/observe"
)

// TestSourcesNamedAsObserve: the Observer's read path maps a Session's
// Source by name, so the two spellings must agree.
func TestSourcesNamedAsObserve(t *testing.T) {
	for _, c := range []struct {
		src  Source
		want observe.Source
	}{{SourceCookie, observe.SourceCookie}, {SourceBearer, observe.SourceBearer}, {SourceJWTCookie, observe.SourceJWTCookie}} {
		if string(c.src) != c.want.String() {
			t.Errorf("got %q, want %q", c.src, c.want)
		}
	}
}
