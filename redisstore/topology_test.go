package redisstore_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sessionkit/sessionkit/redisstore"
)

// topology is a Redis deployment the tests run on, named by the
// environment variable that holds its URL.
type topology struct {
	name, env, how string
}

// topologies are the deployments the store is tested on; .ci/run starts
// them all (.ci/redis-topologies.sh starts the cluster and Sentinel).
var topologies = []topology{
	{"single", "SESSIONKIT_REDIS_URL", "start a redis-server and set SESSIONKIT_REDIS_URL=redis://127.0.0.1:6379/0"},
	{"cluster", "SESSIONKIT_REDIS_CLUSTER_URL", "run `bash .ci/redis-topologies.sh start` and export what it prints"},
	{"sentinel", "SESSIONKIT_REDIS_SENTINEL_URL", "run `bash .ci/redis-topologies.sh start` and export what it prints"},
}

// topologyURL returns the URL of tp. Without it the test is skipped,
// except in CI (CI=true), where every topology must be tested.
func topologyURL(t testing.TB, tp topology) string {
	t.Helper()
	url := os.Getenv(tp.env)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set, and CI=true: the Redis tests must run in CI on every topology (.ci/run starts them)", tp.env)
		}
		t.Skipf("%s is not set: skipping the tests that need a Redis %s (%s)", tp.env, tp.name, tp.how)
	}
	return url
}

// forEachTopology runs f as a subtest on each topology.
func forEachTopology(t *testing.T, f func(t *testing.T, url string)) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) { f(t, topologyURL(t, tp)) })
	}
}

// rawClientAt is a plain client of the Redis at url, without a cache, to
// look at and clean up the store's keys.
func rawClientAt(t testing.TB, url string) rueidis.Client {
	t.Helper()
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		t.Fatalf("parsing the Redis URL: %v", err)
	}
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("connecting to Redis: got error %v, want none (is it running?)", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testPrefixAt returns a key prefix of the test's own on the Redis at
// url, whose keys are deleted when the test ends: on every node of a
// cluster.
func testPrefixAt(t testing.TB, url string) string {
	t.Helper()
	prefix := "sessionkit-test:" + rand.Text() + ":"
	c := rawClientAt(t, url)
	t.Cleanup(func() {
		ctx := context.Background()
		seen := map[string]bool{}
		for _, node := range c.Nodes() {
			for _, key := range scanKeys(t, ctx, node, prefix+"*") {
				if !seen[key] {
					seen[key] = true
					c.Do(ctx, c.B().Del().Key(key).Build())
				}
			}
		}
	})
	return prefix
}

// scanKeys returns the keys of one node that match pattern.
func scanKeys(t testing.TB, ctx context.Context, node rueidis.Client, pattern string) []string {
	var keys []string
	var cursor uint64
	for {
		e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Errorf("scanning for %s: %v", pattern, err)
			return keys
		}
		keys = append(keys, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			return keys
		}
	}
}

// newStoreAt returns a Store on the Redis at url, closed when the test
// ends; without cfg.Prefix, with a prefix of the test's own.
func newStoreAt(t testing.TB, url string, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = testPrefixAt(t, url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redisstore.New(ctx, url, cfg)
	if err != nil {
		t.Fatalf("New: got error %v, want none (is Redis running?)", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
