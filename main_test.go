package sessionkit

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind, such as a
// JWKS refresher of a Manager that was not closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
