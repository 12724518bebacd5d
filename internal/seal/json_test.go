package seal

import (
	"errors"
	"strings"
	"testing"
)

func TestSealJSON(t *testing.T) {
	type record struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	s := mustNew(t, "json", secret())
	value, err := s.SealJSON(record{A: "x", N: 7}, 4096)
	if err != nil {
		t.Fatal(err)
	}
	var got record
	if err := s.OpenJSON(value, 4096, &got); err != nil || got != (record{A: "x", N: 7}) {
		t.Fatalf("OpenJSON: got %+v, %v; want the record sealed", got, err)
	}
	if _, err := s.SealJSON(record{A: strings.Repeat("x", 200)}, 100); !errors.Is(err, ErrTooLong) {
		t.Errorf("SealJSON past maxLen: got %v, want ErrTooLong", err)
	}
	if _, err := s.SealJSON(func() {}, 4096); err == nil {
		t.Error("SealJSON of a func: got nil error")
	}
	other := mustNew(t, "other", secret())
	tests := []struct {
		name  string
		value string
		max   int
		s     *Sealer
	}{
		{"empty", "", 4096, s},
		{"past maxLen", value, len(value) - 1, s},
		{"another name", value, 4096, other},
		{"not JSON", sealString(s, []byte("{")), 4096, s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.OpenJSON(tt.value, tt.max, &got); err == nil {
				t.Errorf("OpenJSON: got nil error, want one")
			}
		})
	}
}
