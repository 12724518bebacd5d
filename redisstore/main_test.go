package redisstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind, such as the
// connection of a Store that was not closed. It lets one of rueidis's
// own pass: when a cluster client learns the cluster's layout, it closes
// the connections the layout replaced five seconds later, from a
// goroutine that outlives the client's Close by at most that long.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}
