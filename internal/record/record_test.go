package record

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestDecodeMoved(t *testing.T) {
	good := Moved{To: "sess_2", Gen: 4, From: 3, MovedAt: t0.Add(time.Second)}
	b := AppendMoved(nil, good)
	if got, err := DecodeMoved(b); err != nil || got != good {
		t.Fatalf("DecodeMoved: %+v, %v", got, err)
	}
	for name, p := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{9}, b[1:]...),
		"trailing":   append(append([]byte{}, b...), 0),
		"short":      b[:len(b)-1],
		"empty ID":   AppendMoved(nil, Moved{Gen: 1, From: 1}),
		"gen 0":      AppendMoved(nil, Moved{To: "x"}),
		"from 0":     AppendMoved(nil, Moved{To: "x", Gen: 1}),
		"from > gen": AppendMoved(nil, Moved{To: "x", Gen: 1, From: 2}),
	} {
		if _, err := DecodeMoved(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	m := Meta{Gen: 3, Floor: 2, RotatedAt: t0, RetryAt: t0.Add(time.Minute), Failures: 2, Seen: true,
		PSIDs: []PSID{{"a", "iss sid"}, {"b", "iss sid2"}}}
	b := append(AppendMeta(nil, m), "rest"...)
	got, rest, err := DecodeMeta(b)
	if err != nil || !reflect.DeepEqual(got, m) || string(rest) != "rest" {
		t.Fatalf("got %+v, %q, %v; want %+v, \"rest\"", got, rest, err, m)
	}
	for name, p := range map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{1}, b[1:]...),
		"gen 0":       AppendMeta(nil, Meta{}),
		"floor > gen": AppendMeta(nil, Meta{Gen: 1, Floor: 2}),
		"empty PSID":  AppendMeta(nil, Meta{Gen: 1, PSIDs: []PSID{{"a", ""}}}),
		"short":       b[:3],
	} {
		if _, _, err := DecodeMeta(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestAcceptedFrom(t *testing.T) {
	m := New(t0)
	m.Seen = true
	m.Advance(t0.Add(time.Minute))
	tests := []struct {
		name string
		seen bool
		at   time.Duration
		want uint64
	}{
		{"in the grace window", true, time.Minute + Grace - time.Second, 1},
		{"past the grace window", true, time.Minute + Grace, 2},
		{"past the grace window, unseen", false, time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := m
			m.Seen = tt.seen
			if got := m.AcceptedFrom(t0.Add(tt.at)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPrunePSIDs(t *testing.T) {
	var m Meta
	m.AddPSID("a", "iss sid")
	m.AddPSID("a", "iss sid")
	m.AddPSID("b", "iss sid")
	m.AddPSID("c", "")
	if got := m.PrunePSIDs(func(string) bool { return true }); !reflect.DeepEqual(got, []string{"iss sid"}) {
		t.Fatalf("got %q, want [iss sid]", got)
	}
	if got := m.PrunePSIDs(func(in string) bool { return in == "b" }); !reflect.DeepEqual(m.PSIDs, []PSID{{"b", "iss sid"}}) || len(got) != 1 {
		t.Fatalf("got %q, %+v; want b's alone", got, m.PSIDs)
	}
}

func TestRef(t *testing.T) {
	ref := Ref{ID: "sess_1", Gen: 7}
	b := AppendRef(nil, ref)
	if got, err := DecodeRef(b); err != nil || got != ref {
		t.Fatalf("got %+v, %v; want %+v", got, err, ref)
	}
	for name, p := range map[string][]byte{
		"empty":    nil,
		"version":  append([]byte{2}, b[1:]...),
		"trailing": append(append([]byte{}, b...), 0),
		"gen 0":    AppendRef(nil, Ref{ID: "x"}),
		"empty ID": AppendRef(nil, Ref{Gen: 1}),
	} {
		if _, err := DecodeRef(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestStubExpiry(t *testing.T) {
	if got := StubExpiry(t0.Add(time.Hour), t0); !got.Equal(t0.Add(StubLife)) {
		t.Errorf("got %v, want now + StubLife", got)
	}
	if got := StubExpiry(t0.Add(time.Second), t0); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("got %v, want the record's end", got)
	}
}

func TestProviderSessionID(t *testing.T) {
	if got := ProviderSessionID("https://idp.example", "s\x00id"); got != "https://idp.example sid" {
		t.Errorf("got %q, want %q", got, "https://idp.example sid")
	}
}

func TestMovedCopied(t *testing.T) {
	mv := Moved{To: "sess_2", Gen: 4, From: 3, MovedAt: t0}
	seen, unseen := Meta{Gen: 1, Seen: true}, Meta{Gen: 1}
	tests := []struct {
		name string
		gen  uint64
		dest *Meta
		at   time.Duration
		want bool
	}{
		{"older than the move accepted", 2, &unseen, 0, true},
		{"in the grace window", 4, &seen, Grace - time.Second, false},
		{"past the grace window, delivered", 4, &seen, Grace, true},
		{"past the grace window, undelivered", 3, &unseen, time.Hour, false},
		{"past the grace window, advanced", 3, &Meta{Gen: 2}, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mv.Copied(tt.gen, tt.dest, t0.Add(tt.at)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVisit(t *testing.T) {
	m := New(t0)
	if !m.Visit(t0, false) || !m.Seen || m.Gen != 1 {
		t.Fatalf("first visit: got %+v, want seen at generation 1", m)
	}
	if m.Visit(t0, false) {
		t.Fatal("second visit: got a change, want none")
	}
	if !m.Visit(t0.Add(time.Hour), true) || m.Seen || m.Gen != 2 {
		t.Fatalf("due visit: got %+v, want generation 2, unseen", m)
	}
}

func TestRefreshOutcome(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	backoff := func(n uint64) time.Duration { return time.Duration(n) * time.Minute }
	m := New(t0)
	m.RefreshFailed(t0, backoff)
	m.RefreshFailed(t0.Add(time.Second), backoff)
	if m.Failures != 2 || !m.RetryAt.Equal(t0.Add(time.Second+2*time.Minute)) {
		t.Fatalf("after two failures: got %d, %v; want 2, %v", m.Failures, m.RetryAt, t0.Add(time.Second+2*time.Minute))
	}
	m.Refreshed(t0.Add(time.Hour))
	if m.Failures != 0 || !m.RetryAt.IsZero() || m.Gen != 2 || m.Seen || !m.RotatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a success: got %+v, want no failures and generation 2, unseen, rotated at +1h", m)
	}
}
