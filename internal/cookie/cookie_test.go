package cookie

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestName(t *testing.T) {
	tests := []struct {
		name, domain, path string
		insecure           bool
		want               string
	}{
		{"s", "", "/", false, "__Host-s"},
		{"s", "example.com", "/", false, "__Secure-s"},
		{"s", "", "/app", false, "__Secure-s"},
		{"s", "", "/", true, "s"},
		{"s", "example.com", "/app", true, "s"},
	}
	for _, tt := range tests {
		if got := Name(tt.name, tt.domain, tt.path, tt.insecure); got != tt.want {
			t.Errorf("Name(%q, %q, %q, %v): got %q, want %q", tt.name, tt.domain, tt.path, tt.insecure, got, tt.want)
		}
	}
}

var optionSets = []Options{
	{Name: "__Host-sessionkit", Path: "/", Secure: true},
	{Name: "__Secure-sessionkit", Path: "/app", Domain: "example.com", SameSite: http.SameSiteStrictMode, Secure: true},
	{Name: "__Secure-s", Path: "/", Domain: ".example.com", SameSite: http.SameSiteNoneMode, Secure: true},
	{Name: "s", Path: "/", SameSite: http.SameSiteDefaultMode},
	{Name: "s", Path: "/", SameSite: http.SameSiteLaxMode, Secure: true},
}

// netHTTPLine is the line http.SetCookie writes.
func netHTTPLine(o Options, name, value string, maxAge int, expires time.Time) string {
	rec := httptest.NewRecorder()
	http.SetCookie(rec, &http.Cookie{
		Name: name, Value: value, Path: o.Path, Domain: o.Domain,
		Expires: expires.UTC(), MaxAge: maxAge, HttpOnly: true, Secure: o.Secure, SameSite: o.SameSite,
	})
	return rec.Header()["Set-Cookie"][0]
}

// set, and WriteEncoded for a value that fits one cookie, write the line
// http.SetCookie would, for every attribute set-up.
func TestLinesMatchNetHTTP(t *testing.T) {
	for _, o := range optionSets {
		c := New(o)
		rec := httptest.NewRecorder()
		raw := []byte("payload bytes")
		if err := c.WriteEncoded(rec, nil, raw, base64.RawURLEncoding, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		want := netHTTPLine(o, o.Name, base64.RawURLEncoding.EncodeToString(raw), 3600, t0.Add(time.Hour))
		if got := rec.Header()["Set-Cookie"]; len(got) != 1 || got[0] != want {
			t.Errorf("WriteEncoded: got %q\nwant %q", got, want)
		}
		for _, tt := range []struct {
			value   string
			maxAge  int
			expires time.Time
		}{
			{"AbC-_123", 3600, t0.Add(time.Hour)},
			{"", -1, time.Unix(1, 0)},
			{"x", 1, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)},
			{"x", 0, t0.In(time.FixedZone("X", 3600))},
		} {
			l := Lines{c: c}
			l.set(o.Name+".1", tt.value, tt.maxAge, tt.expires)
			want := netHTTPLine(o, o.Name+".1", tt.value, tt.maxAge, tt.expires)
			if got := l.lines; len(got) != 1 || got[0] != want {
				t.Errorf("set: got %q\nwant %q", got, want)
			}
		}
	}
}

// request returns a request whose Cookie header holds the name=value
// pairs of the lines set on rec.
func request(rec *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(c)
		}
	}
	return r
}

// A value is written in as many cookies as it needs, each line within a
// browser's limit, and read back whole.
func TestWriteAndRead(t *testing.T) {
	long := Options{Name: "__Secure-" + strings.Repeat("n", 40), Path: "/" + strings.Repeat("p", 100), Domain: strings.Repeat("d", 60) + ".example.com", SameSite: http.SameSiteStrictMode, Secure: true}
	for _, o := range []Options{optionSets[0], long} {
		c := New(o)
		for _, tt := range []struct {
			size, cookies int
		}{
			{1, 1}, {c.ChunkSize(), 1}, {c.ChunkSize() + 1, 2}, {3*c.ChunkSize() + 5, 4}, {MaxChunks * c.ChunkSize(), MaxChunks},
		} {
			value := strings.Repeat("v", tt.size)
			rec := httptest.NewRecorder()
			if err := c.Write(rec, nil, value, t0.Add(time.Hour), t0); err != nil {
				t.Fatal(err)
			}
			lines := rec.Header()["Set-Cookie"]
			if len(lines) != tt.cookies {
				t.Fatalf("%d bytes: got %d cookies, want %d", tt.size, len(lines), tt.cookies)
			}
			for i, l := range lines {
				if len(l) > BrowserLimit {
					t.Fatalf("%d bytes, cookie %d: line of %d bytes, over %d", tt.size, i, len(l), BrowserLimit)
				}
			}
			var f Found
			c.Scan(request(rec), &f)
			parts, present, err := f.Parts(1 << 20)
			if !present || err != nil || strings.Join(parts, "") != value {
				t.Fatalf("%d bytes: read back present %v err %v, %d parts", tt.size, present, err, len(parts))
			}
		}
		rec := httptest.NewRecorder()
		if err := c.Write(rec, nil, strings.Repeat("v", MaxChunks*c.ChunkSize()+1), t0.Add(time.Hour), t0); !errors.Is(err, ErrTooManyChunks) {
			t.Fatalf("too long: got %v, want ErrTooManyChunks", err)
		}
		if n := len(rec.Header()["Set-Cookie"]); n != 0 {
			t.Fatalf("too long: %d lines written", n)
		}
	}
}

// setNames lists the names rec sets and the names it expires.
func setNames(rec *httptest.ResponseRecorder) (set, expired []string) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			expired = append(expired, c.Name)
		} else {
			set = append(set, c.Name)
		}
	}
	return set, expired
}

// A write expires what the request carried and the write does not
// replace, and replaces what the same response set earlier.
func TestWriteReplaces(t *testing.T) {
	c := New(optionSets[0])
	n := c.Name()
	big := strings.Repeat("v", 2*c.ChunkSize()+1) // three chunks
	tests := []struct {
		name        string
		carried     string // the request's Cookie header
		earlier     string // a value written before in the same response
		value       string
		expires     time.Time
		wantSet     []string
		wantExpired []string
	}{
		{"shrink from chunks", n + ".0=a; " + n + ".1=b; " + n + ".2=c", "", "small", t0.Add(time.Hour), []string{"other", n}, []string{n + ".0", n + ".1", n + ".2"}},
		{"grow to chunks", n + "=a", "", big, t0.Add(time.Hour), []string{"other", n + ".0", n + ".1", n + ".2"}, []string{n}},
		{"same shape", n + "=a", "", "small", t0.Add(time.Hour), []string{"other", n}, nil},
		{"other cookies untouched", "other=1; " + n + "x=2; " + n + ".x=3", "", "small", t0.Add(time.Hour), []string{"other", n}, nil},
		{"earlier chunks dropped", "", big, "small", t0.Add(time.Hour), []string{"other", n}, nil},
		{"earlier single dropped", "", "small", big, t0.Add(time.Hour), []string{"other", n + ".0", n + ".1", n + ".2"}, nil},
		{"expired write clears", n + ".0=a; " + n + ".1=b", "small", "x", t0, []string{"other"}, []string{n, n + ".0", n + ".1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
			if tt.carried != "" {
				r.Header.Set("Cookie", tt.carried)
			}
			rec := httptest.NewRecorder()
			rec.Header().Add("Set-Cookie", "other=1")
			if tt.earlier != "" {
				if err := c.Write(rec, nil, tt.earlier, t0.Add(time.Hour), t0); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Write(rec, r, tt.value, tt.expires, t0); err != nil {
				t.Fatal(err)
			}
			set, expired := setNames(rec)
			slices.Sort(expired)
			if !slices.Equal(set, tt.wantSet) || !slices.Equal(expired, tt.wantExpired) {
				t.Fatalf("got set %q expired %q, want set %q expired %q", set, expired, tt.wantSet, tt.wantExpired)
			}
		})
	}
}

func TestScanParts(t *testing.T) {
	const n = "__Host-s"
	tests := []struct {
		name        string
		header      []string
		maxSize     int
		want        []string
		wantPresent bool
		wantErr     error
	}{
		{"none", nil, 100, nil, false, nil},
		{"other cookies only", []string{"a=1; b=2; " + n + "x=3"}, 100, nil, false, nil},
		{"whole", []string{"a=1; " + n + "=v"}, 100, []string{"v"}, true, nil},
		{"whole quoted", []string{n + `="v"`}, 100, []string{"v"}, true, nil},
		{"first of two wins", []string{n + "=first; " + n + "=second"}, 100, []string{"first"}, true, nil},
		{"first of two lines wins", []string{n + "=first", n + "=second"}, 100, []string{"first"}, true, nil},
		{"whole beats chunks", []string{n + ".0=a; " + n + "=v"}, 100, []string{"v"}, true, nil},
		{"chunks in order", []string{n + ".1=b; " + n + ".0=a; " + n + ".2=c"}, 100, []string{"a", "b", "c"}, true, nil},
		{"chunks up to a gap", []string{n + ".0=a; " + n + ".2=c"}, 100, []string{"a"}, true, nil},
		{"first chunk of a duplicate wins", []string{n + ".0=a; " + n + ".0=x"}, 100, []string{"a"}, true, nil},
		{"no chunk 0", []string{n + ".1=b"}, 100, nil, true, ErrMissingChunk},
		{"only empty values", []string{n + ".0=; " + n + ".1="}, 100, nil, false, nil},
		{"an empty whole value", []string{n + "="}, 100, nil, false, nil},
		{"the most chunks", []string{manyChunks(n, MaxChunks)}, 1000, chunkValues(MaxChunks), true, nil},
		{"chunks up to a gap past the eighth", []string{manyChunks(n, 12) + "; " + n + ".20=x"}, 1000, chunkValues(12), true, nil},
		{"a chunk index past MaxChunks", []string{n + ".64=x"}, 100, nil, false, nil},
		{"leading zero is not a chunk", []string{n + ".01=x"}, 100, nil, false, nil},
		{"signed index is not a chunk", []string{n + ".+1=x"}, 100, nil, false, nil},
		{"whole too large", []string{n + "=" + strings.Repeat("v", 11)}, 10, nil, true, ErrTooLarge},
		{"chunks too large", []string{n + ".0=" + strings.Repeat("v", 6) + "; " + n + ".1=" + strings.Repeat("v", 5)}, 10, nil, true, ErrTooLarge},
		{"at the limit", []string{n + ".0=" + strings.Repeat("v", 5) + "; " + n + ".1=" + strings.Repeat("v", 5)}, 10, []string{"vvvvv", "vvvvv"}, true, nil},
	}
	c := New(Options{Name: n, Path: "/", Secure: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
			r.Header["Cookie"] = tt.header
			var f Found
			c.Scan(r, &f)
			got, present, err := f.Parts(tt.maxSize)
			if !errors.Is(err, tt.wantErr) || present != tt.wantPresent || !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, %v, %v; want %q, %v, %v", got, present, err, tt.want, tt.wantPresent, tt.wantErr)
			}
		})
	}
}

// manyChunks is a Cookie header with chunks 0 to n-1 of name, each value
// its index, listed last first.
func manyChunks(name string, n int) string {
	parts := make([]string, 0, n)
	for i := n - 1; i >= 0; i-- {
		parts = append(parts, name+"."+strconv.Itoa(i)+"="+strconv.Itoa(i))
	}
	return strings.Join(parts, "; ")
}

// chunkValues are manyChunks' values in order.
func chunkValues(n int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	return v
}

// Scanning a request's cookies and finding the parts allocate nothing.
func TestScanAllocates(t *testing.T) {
	c := New(optionSets[0])
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.Header.Set("Cookie", "a=1; theme=dark; "+c.Name()+".0=abc; "+c.Name()+".1=def; z=\"q\"")
	allocs := testing.AllocsPerRun(100, func() {
		var f Found
		c.Scan(r, &f)
		if parts, _, _ := f.Parts(100); len(parts) != 2 {
			t.Fatal("parts not found")
		}
	})
	if allocs != 0 {
		t.Fatalf("got %v allocations, want 0", allocs)
	}
}

func TestChunkIndex(t *testing.T) {
	tests := []struct {
		rest string
		want int
		ok   bool
	}{
		{".0", 0, true}, {".9", 9, true}, {".10", 10, true}, {".999", 999, true},
		{"", 0, false}, {".", 0, false}, {"0", 0, false}, {".01", 0, false}, {".+1", 0, false},
		{".-1", 0, false}, {".1a", 0, false}, {".1000", 0, false}, {"x1", 0, false},
	}
	for _, tt := range tests {
		if got, ok := chunkIndex(tt.rest); got != tt.want || ok != tt.ok {
			t.Errorf("chunkIndex(%q): got %d, %v; want %d, %v", tt.rest, got, ok, tt.want, tt.ok)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	c := New(optionSets[0])
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.Header.Set("Cookie", "_ga=GA1.1.123; theme=dark; "+c.Name()+"="+strings.Repeat("v", 3000)+"; csrf=abc")
	b.ReportAllocs()
	for b.Loop() {
		var f Found
		c.Scan(r, &f)
		if parts, _, _ := f.Parts(1 << 14); len(parts) != 1 {
			b.Fatal("not found")
		}
	}
}

// Set, SetEncoded and Clearing decide a write without touching any
// response; applied, the decision replaces the cookie's earlier lines and
// keeps everyone else's. The zero Lines writes nothing.
func TestLinesDecideThenApply(t *testing.T) {
	c := New(optionSets[0])
	other := "other=1"
	for _, tt := range []struct {
		name   string
		decide func() (Lines, error)
		want   int // lines of ours after Apply
	}{
		{"set", func() (Lines, error) { return c.Set(nil, "v", t0.Add(time.Hour), t0) }, 1},
		{"set encoded", func() (Lines, error) {
			return c.SetEncoded(nil, []byte("raw"), base64.RawURLEncoding, t0.Add(time.Hour), t0)
		}, 1},
		{"clearing", func() (Lines, error) { return c.Clearing(nil), nil }, 1},
		{"too many chunks", func() (Lines, error) {
			return c.Set(nil, strings.Repeat("v", MaxChunks*c.ChunkSize()+1), t0.Add(time.Hour), t0)
		}, 0},
		{"zero", func() (Lines, error) { return Lines{}, nil }, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Set-Cookie": {c.Name() + "=old", other, c.Name() + ".1=old"}}
			l, _ := tt.decide()
			if got := len(h["Set-Cookie"]); got != 3 {
				t.Fatalf("deciding changed the header: got %d lines, want 3", got)
			}
			l.Apply(h)
			ours := 0
			for _, line := range h["Set-Cookie"] {
				if strings.HasPrefix(line, c.Name()) {
					ours++
				}
			}
			if ours != tt.want || !slices.Contains(h["Set-Cookie"], other) {
				t.Errorf("after Apply: got %q, want %d lines of ours and %q kept", h["Set-Cookie"], tt.want, other)
			}
			if got := l.IsZero(); got != (tt.name == "zero") {
				t.Errorf("IsZero: got %v", got)
			}
		})
	}
}
