// Package wire holds the primitives of the library's compact binary
// records (the session payload, the stored record's header, the forwarding
// stub): uvarint-length strings and uvarint times, and a Reader whose every
// read is bounds-checked, so that any byte string decodes or fails with
// ErrMalformed, never panics.
package wire

import (
	"encoding/binary"
	"errors"
	"time"
	"unsafe"
)

// ErrMalformed is the error of a Reader that met bytes its reads cannot
// decode.
var ErrMalformed = errors.New("malformed session payload")

// MaxUnix bounds the Unix seconds a Reader decodes, to what time.Unix
// represents sensibly.
const MaxUnix = 1 << 40

// AppendString appends s to b as its uvarint length and its bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t to b as uvarint Unix seconds, 0 for the zero time.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(max(t.Unix(), 1)))
}

// AppendMilli appends t to b as uvarint Unix milliseconds, 0 for the zero
// time.
func AppendMilli(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(max(t.UnixMilli(), 1)))
}

// Reader decodes what the Append functions wrote, from a string. After its
// first failure it stays failed: every read returns a zero value and Err
// reports ErrMalformed, so a decoder checks once, at the end.
type Reader struct {
	s   string
	off int
	err error
}

// NewReader returns a Reader of s.
func NewReader(s string) Reader { return Reader{s: s} }

// Err is ErrMalformed once a read failed (or Fail was called), else nil.
func (r *Reader) Err() error { return r.err }

// Fail marks r failed: its decoder found a value it refuses.
func (r *Reader) Fail() { r.err = ErrMalformed }

// Offset is the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

// Done reports whether every byte was read without a failure.
func (r *Reader) Done() bool { return r.err == nil && r.off == len(r.s) }

// Uvarint reads an unsigned varint, refusing one longer than 64 bits.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.off >= len(r.s) {
			r.Fail()
			return 0
		}
		c := r.s[r.off]
		r.off++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				r.Fail()
				return 0
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.Fail()
	return 0
}

// Str reads a string written by AppendString. It shares the Reader's
// memory.
func (r *Reader) Str() string {
	n := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.off) {
		r.Fail()
		return ""
	}
	v := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil || r.off >= len(r.s) {
		r.Fail()
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

// Time reads a time written by AppendTime, in UTC.
func (r *Reader) Time() time.Time {
	v := r.Uvarint()
	if v == 0 || r.err != nil {
		return time.Time{}
	}
	if v > MaxUnix {
		r.Fail()
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

// Milli reads a time written by AppendMilli, in UTC.
func (r *Reader) Milli() time.Time {
	v := r.Uvarint()
	if v == 0 || r.err != nil {
		return time.Time{}
	}
	if v > MaxUnix*1000 {
		r.Fail()
		return time.Time{}
	}
	return time.UnixMilli(int64(v)).UTC()
}

// AppendFields appends each field in order: a *string as AppendString, a
// *time.Time as AppendTime, a *byte as the byte. Other types are skipped.
func AppendFields(b []byte, fields ...any) []byte {
	for _, f := range fields {
		switch v := f.(type) {
		case *string:
			b = AppendString(b, *v)
		case *time.Time:
			b = AppendTime(b, *v)
		case *byte:
			b = append(b, *v)
		}
	}
	return b
}

// Fields reads into each field, in order, what AppendFields wrote from
// them; a field of another type fails r.
func (r *Reader) Fields(fields ...any) {
	for _, f := range fields {
		switch v := f.(type) {
		case *string:
			*v = r.Str()
		case *time.Time:
			*v = r.Time()
		case *byte:
			*v = r.Byte()
		default:
			r.Fail()
		}
	}
}

// StringOf returns b as a string without a copy: b must never be written
// again while the string (or anything sliced from it) is in use.
func StringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
