package memstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind, such as the
// sweeper of a Store that was not closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
