package cookie

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzScan scans arbitrary Cookie headers: never a panic, parts within the
// size asked for; and a value written (of cookie-safe bytes) is found
// again whole, whatever the request carried before.
func FuzzScan(f *testing.F) {
	c := New(Options{Name: "__Host-s", Path: "/", Secure: true})
	for _, seed := range []string{
		"", "__Host-s=v", "__Host-s.0=a; __Host-s.1=b", "__Host-s.1=b", `__Host-s="q"`, "__Host-s.63=x; __Host-s.64=y",
		"__Host-s=; __Host-s.0=", "a=1;;; __Host-s.01=x; __Host-s.+1=y", "__Host-s=" + strings.Repeat("v", 5000),
	} {
		f.Add(seed, 10)
	}
	f.Fuzz(func(t *testing.T, header string, n int) {
		r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		r.Header.Set("Cookie", header)
		var found Found
		c.Scan(r, &found)
		parts, _, err := found.Parts(1 << 14)
		if size := len(strings.Join(parts, "")); err == nil && size > 1<<14 {
			t.Fatalf("parts of %d bytes, over the limit", size)
		}
		value := strings.Repeat("v", max(1, min(n, 3*c.ChunkSize())))
		rec := httptest.NewRecorder()
		if err := c.Write(rec, r, value, time.Unix(2e9, 0), time.Unix(1e9, 0)); err != nil {
			t.Fatal(err)
		}
		var again Found
		c.Scan(request(rec), &again)
		if parts, _, err := again.Parts(1 << 14); err != nil || strings.Join(parts, "") != value {
			t.Fatalf("written value not found again: %v, %d parts", err, len(parts))
		}
	})
}
