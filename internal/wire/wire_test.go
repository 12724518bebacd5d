package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	var b []byte
	b = AppendString(b, "")
	b = AppendString(b, "héllo")
	b = AppendTime(b, time.Time{})
	b = AppendTime(b, at)
	b = AppendMilli(b, time.Time{})
	b = AppendMilli(b, at)
	b = binary.AppendUvarint(b, math.MaxUint64)
	b = append(b, 0xfe)
	r := NewReader(StringOf(b))
	got := []any{r.Str(), r.Str(), r.Time(), r.Time(), r.Milli(), r.Milli(), r.Uvarint(), r.Byte()}
	want := []any{"", "héllo", time.Time{}, at.Truncate(time.Second), time.Time{}, at.Truncate(time.Millisecond), uint64(math.MaxUint64), byte(0xfe)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("read %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if !r.Done() || r.Err() != nil || r.Offset() != len(b) {
		t.Fatalf("Done %v, Err %v, Offset %d of %d", r.Done(), r.Err(), r.Offset(), len(b))
	}
}

func TestAppendTimeBeforeEpoch(t *testing.T) {
	r := NewReader(string(AppendTime(nil, time.Unix(-5, 0))))
	if got := r.Time(); !got.Equal(time.Unix(1, 0)) || !r.Done() {
		t.Fatalf("got %v, %v; want 1s after the epoch", got, r.Err())
	}
}

func TestReaderRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
	}{
		{"empty uvarint", nil, func(r *Reader) { r.Uvarint() }},
		{"truncated uvarint", []byte{0x80}, func(r *Reader) { r.Uvarint() }},
		{"uvarint over 64 bits", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, func(r *Reader) { r.Uvarint() }},
		{"uvarint over 10 bytes", []byte(strings.Repeat("\xff", 11)), func(r *Reader) { r.Uvarint() }},
		{"string past the end", []byte{5, 'a', 'b'}, func(r *Reader) { r.Str() }},
		{"huge string length", binary.AppendUvarint(nil, math.MaxUint64), func(r *Reader) { r.Str() }},
		{"byte past the end", nil, func(r *Reader) { r.Byte() }},
		{"time past MaxUnix", binary.AppendUvarint(nil, MaxUnix+1), func(r *Reader) { r.Time() }},
		{"milli past MaxUnix", binary.AppendUvarint(nil, MaxUnix*1000+1), func(r *Reader) { r.Milli() }},
		{"failed by its decoder", []byte{1}, func(r *Reader) { r.Fail() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(string(tt.in))
			tt.read(&r)
			if !errors.Is(r.Err(), ErrMalformed) || r.Done() {
				t.Fatalf("Err %v, Done %v; want ErrMalformed", r.Err(), r.Done())
			}
			if r.Str() != "" || r.Uvarint() != 0 || !r.Time().IsZero() || !r.Milli().IsZero() || r.Byte() != 0 {
				t.Fatal("a failed Reader still reads values")
			}
		})
	}
}

func TestDoneNeedsEveryByte(t *testing.T) {
	r := NewReader(string(AppendString(nil, "a")) + "x")
	if r.Str() != "a" || r.Done() || r.Err() != nil {
		t.Fatalf("Done %v, Err %v with a byte left", r.Done(), r.Err())
	}
}

func TestFields(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s, tm, c := "héllo", at, byte(3)
	b := AppendFields(nil, &s, &tm, &c)
	var s2 string
	var tm2 time.Time
	var c2 byte
	r := NewReader(string(b))
	r.Fields(&s2, &tm2, &c2)
	if !r.Done() || s2 != s || !tm2.Equal(tm) || c2 != c {
		t.Fatalf("got %q %v %d (done %v), want %q %v %d", s2, tm2, c2, r.Done(), s, tm, c)
	}
	r = NewReader(string(b))
	if r.Fields(&s2, new(int)); r.Err() == nil {
		t.Fatal("a field of another type: got no error")
	}
}
