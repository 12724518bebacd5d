package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// outcome classifies a response.
type outcome int

const (
	outOK           outcome = iota
	outUnavailable          // 503: the store failed, the session kept
	outSessionError         // 200 with a session error (a refresh that failed)
	outSignedOut            // 401
	outWrongUser
	outTransport
	outOther
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"200", "503 (store unavailable)", "200 with a session error", "401 (signed out)",
	"wrong user", "transport error", "other status"}

// result is what a run measured; times are from the run's start, or from
// the freeze where said.
type result struct {
	mu                     sync.Mutex
	counts                 [nOutcomes]int64
	first503, last503      time.Duration // when the requests were sent, from the freeze
	slow                   int64         // requests that took over a second
	slowest                time.Duration
	examples               []string
	master, newMaster      string
	freezeAt, failoverTook time.Duration
	afterSignedIn, elapsed time.Duration
	before, after          int // sessions checked at the end
	lostBefore, lostAfter  int
	lostIDs                []string
	tokenCalls, reuse      int64
	sessionErrors          map[string]int64
}

func (r *result) record(o outcome, sinceFreeze time.Duration, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[o]++
	switch o {
	case outOK:
	case outUnavailable:
		if r.counts[o] == 1 || sinceFreeze < r.first503 {
			r.first503 = sinceFreeze
		}
		r.last503 = max(r.last503, sinceFreeze)
	case outSessionError:
		if r.sessionErrors == nil {
			r.sessionErrors = map[string]int64{}
		}
		r.sessionErrors[detail]++
	default:
		if len(r.examples) < 8 {
			r.examples = append(r.examples, detail)
		}
	}
}

// took records how long a request took.
func (r *result) took(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d > time.Second {
		r.slow++
	}
	r.slowest = max(r.slowest, d)
}

func (r *result) note(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.examples = append(r.examples, fmt.Sprintf(format, a...))
}

func (r *result) checked(after, alive bool, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if after {
		r.after++
	} else {
		r.before++
	}
	if alive {
		return
	}
	if after {
		r.lostAfter++
	} else {
		r.lostBefore++
	}
	if len(r.lostIDs) < 8 {
		r.lostIDs = append(r.lostIDs, id)
	}
}

func (r *result) print() {
	var total int64
	for _, c := range r.counts {
		total += c
	}
	fmt.Printf("run: %s; master %s frozen at %s; Sentinel named %s %s later; %d users signed in after it by %s\n",
		r.elapsed.Round(time.Millisecond), r.master, r.freezeAt.Round(time.Millisecond), r.newMaster,
		r.failoverTook.Round(time.Millisecond), r.after, r.afterSignedIn.Round(time.Millisecond))
	fmt.Printf("requests: %d (%.0f/s)\n", total, float64(total)/r.elapsed.Seconds())
	for o, c := range r.counts {
		fmt.Printf("  %-26s %d\n", outcomeNames[o]+":", c)
	}
	if r.counts[outUnavailable] > 0 {
		fmt.Printf("503s answered the requests sent from %s to %s after the freeze (%s)\n", r.first503.Round(time.Millisecond),
			r.last503.Round(time.Millisecond), (r.last503 - r.first503).Round(time.Millisecond))
	}
	fmt.Printf("slowest request %s; %d took over 1 s (a request waits for a frozen master up to redisstore's Timeout, 3 s)\n",
		r.slowest.Round(time.Millisecond), r.slow)
	for e, n := range r.sessionErrors {
		fmt.Printf("session error %q: %d\n", e, n)
	}
	fmt.Printf("sessions lost: %d of %d signed in before the freeze, %d of %d signed in after the failover %v\n",
		r.lostBefore, r.before, r.lostAfter, r.after, r.lostIDs)
	fmt.Printf("token endpoint: %d calls, %d refresh tokens reused\n", r.tokenCalls, r.reuse)
	for _, e := range r.examples {
		fmt.Println("  e.g.", e)
	}
}

func (r *result) violations() []string {
	var v []string
	if n := r.counts[outSignedOut] + r.counts[outWrongUser]; n > 0 {
		v = append(v, fmt.Sprintf("%d requests signed out or answered for another user", n))
	}
	if r.newMaster == "" {
		v = append(v, "Sentinel named no new master")
	}
	if r.lostAfter > 0 {
		v = append(v, fmt.Sprintf("%d sessions acknowledged after the failover lost", r.lostAfter))
	}
	if r.reuse > 0 {
		v = append(v, fmt.Sprintf("%d refresh tokens reused", r.reuse))
	}
	return v
}

// masterAddr asks the sentinel at addr for the master of masterSet.
func masterAddr(addr, masterSet string) (string, error) {
	reply, err := redisDo(addr, 2*time.Second, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterSet)
	if err != nil {
		return "", err
	}
	if len(reply) != 2 {
		return "", fmt.Errorf("sentinel %s: no master named %s", addr, masterSet)
	}
	return net.JoinHostPort(reply[0], reply[1]), nil
}

// redisDo sends one command to the Redis server at addr and reads a reply
// that is a status, an error, a bulk string or an array of bulk strings.
func redisDo(addr string, timeout time.Duration, args ...string) ([]string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "-"):
		return nil, errors.New(line[1:])
	case strings.HasPrefix(line, "+"):
		return []string{line[1:]}, nil
	case strings.HasPrefix(line, "$"):
		s, err := readBulk(rd, line)
		return []string{s}, err
	case strings.HasPrefix(line, "*"):
		return readArray(rd, line)
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

func readArray(rd *bufio.Reader, header string) ([]string, error) {
	n, err := strconv.Atoi(header[1:])
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if out[i], err = readBulk(rd, strings.TrimRight(line, "\r\n")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readBulk(rd *bufio.Reader, header string) (string, error) {
	n, err := strconv.Atoi(header[1:])
	if err != nil || n < 0 {
		return "", err
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
