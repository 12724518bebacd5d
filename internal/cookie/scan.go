package cookie

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Found is what Scan found of the cookie in a request.
type Found struct {
	one       [1]string            // backs parts for an unchunked cookie
	whole     string               // value of the unchunked cookie, if any
	chunks    [inlineChunks]string // values of name.0 to name.7 by index; "" where missing
	more      []string             // values of name.8 and up, made when one is seen
	nchunks   int                  // 1 + the highest index seen
	present   bool                 // some cookie of ours was there
	wholeSeen bool                 // the unchunked cookie was there, maybe empty
	size      int                  // bytes of our cookie values
}

// inlineChunks is how many chunks Found holds without allocating: a
// Found is declared on every request, so it is kept small to clear.
const inlineChunks = 8

// Scan finds the cookie and its chunks among r's cookies, into f (which
// the caller declares, so that scanning allocates nothing for a cookie of
// up to 8 chunks). For a name sent twice (a stale cookie with another Path
// or Domain) the first one wins, as browsers send the most specific path
// first.
func (c *Chunked) Scan(r *http.Request, f *Found) {
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || !strings.HasPrefix(k, c.name) {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			f.add(k[len(c.name):], v)
		}
	}
}

// add records the value v of the cookie whose name, past ours, is rest.
func (f *Found) add(rest, v string) {
	if rest == "" {
		f.present = true
		if !f.wholeSeen {
			f.wholeSeen = true
			f.whole = v
			f.size += len(v)
		}
		return
	}
	idx, ok := chunkIndex(rest)
	if !ok {
		return
	}
	f.present = true
	if idx >= MaxChunks {
		return // not a chunk we ever write
	}
	f.nchunks = max(f.nchunks, idx+1)
	slot := f.slot(idx)
	if *slot == "" {
		*slot = v
		f.size += len(v)
	}
}

// slot is where the value of chunk idx < MaxChunks goes.
func (f *Found) slot(idx int) *string {
	if idx < inlineChunks {
		return &f.chunks[idx]
	}
	if f.more == nil {
		f.more = make([]string, MaxChunks-inlineChunks)
	}
	return &f.more[idx-inlineChunks]
}

// Parts returns the pieces of the cookie found, in order: the unchunked
// value, or the chunks from name.0 up to the first missing index (any
// beyond are leftovers; the authentication of the joined value decides).
// Their concatenation is the value. present reports that some cookie of
// ours was there; err (ErrMissingChunk, ErrTooLarge) that what is there
// cannot be a value of at most maxSize bytes.
func (f *Found) Parts(maxSize int) (parts []string, present bool, err error) {
	if !f.present {
		return nil, false, nil
	}
	if f.whole != "" {
		if len(f.whole) > maxSize {
			return nil, true, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrTooLarge, len(f.whole), maxSize)
		}
		f.one[0] = f.whole
		return f.one[:], true, nil
	}
	n, size := 0, 0
	for ; n < f.nchunks; n++ {
		v := *f.slot(n)
		if v == "" {
			break
		}
		size += len(v)
	}
	switch {
	case n == 0 && f.size == 0:
		return nil, false, nil // only empty values, as a clear leaves them
	case n == 0:
		return nil, true, ErrMissingChunk
	case size > maxSize:
		return nil, true, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrTooLarge, size, maxSize)
	}
	if n <= inlineChunks {
		return f.chunks[:n], true, nil
	}
	return append(f.chunks[:inlineChunks:inlineChunks], f.more[:n-inlineChunks]...), true, nil
}

// chunkIndex parses ".N" (N decimal, no sign, no leading zeros).
func chunkIndex(rest string) (int, bool) {
	if len(rest) < 2 || rest[0] != '.' || len(rest) > 4 {
		return 0, false
	}
	digits := rest[1:]
	if len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(digits); i++ { // Atoi would take a sign
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
