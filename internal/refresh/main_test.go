package refresh

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a flight outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
