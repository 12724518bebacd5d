// Command failover measures a Redis failover under load: on loopback, in
// one process, three application instances (each a Manager with its own
// redisstore.Store, as three servers would have) share one Redis behind
// Sentinel; cookie users with store-backed sessions and browsers whose
// access tokens are refreshed continuously send requests to random
// instances. Midway it freezes the master (DEBUG SLEEP, as a dead or
// partitioned machine would look), Sentinel promotes the replica, and the
// run goes on until -d has passed. It then reports:
//
//   - requests, and the unexpected responses among them: a 401 (a user
//     signed out), a wrong user, a transport error, any other status;
//   - the 503 answers (ErrStoreUnavailable) and their window: from the
//     first to the last, measured from the freeze;
//   - sessions lost: every user's session is checked at the end, those of
//     the users signed in after Sentinel reported the new master apart;
//   - refresh tokens reused: a rotated-out refresh token presented again
//     to the token endpoint.
//
// It exits non-zero when a request was signed out or answered for the
// wrong user, when a session acknowledged after the failover is lost, or
// when a refresh token is reused.
//
//	bash .ci/redis-topologies.sh start
//	go run ./bench/cmd/failover -url 'redis://127.0.0.1:26390/0?master_set=sessionkit'
//
// The servers must allow DEBUG from loopback (enable-debug-command local:
// .ci/redis-topologies.sh starts them so). The frozen master wakes after
// -sleep and Sentinel makes it a replica of the new one.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"runtime"
	"time"
)

type options struct {
	url      string
	d        time.Duration
	killAt   time.Duration
	sleep    time.Duration
	users    int
	browsers int
	workers  int
	after    int
	ttl      time.Duration
	noCache  bool
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", os.Getenv("SESSIONKIT_REDIS_SENTINEL_URL"), "Sentinel URL of the master set (default $SESSIONKIT_REDIS_SENTINEL_URL)")
	flag.DurationVar(&o.d, "d", 40*time.Second, "length of the run")
	flag.DurationVar(&o.killAt, "kill-at", 10*time.Second, "when to freeze the master")
	flag.DurationVar(&o.sleep, "sleep", 15*time.Second, "how long the master stays frozen")
	flag.IntVar(&o.users, "users", 200, "cookie users signed in before the run")
	flag.IntVar(&o.browsers, "browsers", 16, "browsers with refreshing sessions")
	flag.IntVar(&o.workers, "workers", 8, "goroutines sending the cookie users' requests")
	flag.IntVar(&o.after, "after", 100, "cookie users signed in once Sentinel reports the new master")
	flag.DurationVar(&o.ttl, "ttl", 4*time.Second, "access token lifetime of the refreshing sessions")
	flag.BoolVar(&o.noCache, "no-cache", false, "turn off redisstore's client-side cache (every request reads Redis)")
	flag.Parse()
	if o.url == "" {
		log.Fatal("failover: -url (or SESSIONKIT_REDIS_SENTINEL_URL) is required")
	}
	if u, err := url.Parse(o.url); err != nil || u.Query().Get("master_set") == "" {
		log.Fatal("failover: -url must be a Sentinel URL with master_set")
	}
	if o.killAt <= 0 || o.killAt >= o.d || o.users < 1 || o.workers < 1 || o.ttl < 2*time.Second {
		log.Fatal("failover: want 0 < -kill-at < -d, -users and -workers at least 1, -ttl at least 2s")
	}
	fmt.Printf("failover: %s run, master frozen at %s for %s, %d cookie users (+%d after), %d refreshing browsers, 3 instances, client-side cache %v, GOMAXPROCS %d\n",
		o.d, o.killAt, o.sleep, o.users, o.after, o.browsers, !o.noCache, runtime.GOMAXPROCS(0))
	r, err := run(context.Background(), o)
	if err != nil {
		log.Fatal("failover: ", err)
	}
	r.print()
	if v := r.violations(); len(v) > 0 {
		fmt.Println("FAILED:")
		for _, s := range v {
			fmt.Println("  -", s)
		}
		os.Exit(1)
	}
	fmt.Println("PASS: no sign-out, no session acknowledged after the failover lost, no refresh token reused")
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
